"""What surveys do when something happens elsewhere (common.events): a new member gets the after-signup
survey; a member who opts out has their runs stopped (STOP during a survey is a STOP); an erased member's
runs and answers go. Connected in SurveysConfig.ready()."""

from __future__ import annotations

from common import events
from surveys.services import member_runs_stop, member_survey_after_signup, member_surveys_erase


def connect() -> None:
    events.subscribe(events.MEMBER_SAVED, member_survey_after_signup)
    events.subscribe(events.MEMBER_OPTED_OUT, member_runs_stop)
    events.subscribe(events.MEMBER_ERASED, member_surveys_erase)
