"""Every hand-written SQL statement of the inbound path, in one place and built one way.

Each is a `common.sql.Statement`: written with `{schema}` before every table of the leader's schema,
composed with psycopg.sql (the schema an `Identifier`), rendered once per schema and run as a server-side
prepared statement (`common.sql.prepared_fetchone` / `prepared_execute`): no `SET search_path`, and
PostgreSQL parses and plans each once per connection. docs/architecture.md ("Inbound texts") says why.
`tests/inbound/test_statements.py` prepares each of `STATEMENTS` in a real leader's schema.

Not here: the broadcast reply count (`broadcast_reply_record`, the broadcasts feature's), which writes the
broadcast ids into its text as numbers so that PostgreSQL plans only those partitions: it cannot be one
prepared statement per schema.
"""

from __future__ import annotations

from common.sql import Statement
from leaders.models import Leader

# One statement stores the text and, for a member's ordinary text, files it in their conversation and counts
# it as a reply to the broadcast they got last:
# - `fan` reads the member (if any) by phone;
# - `filing` is that member when the text belongs in the inbox (not a keyword; START from someone already
#   subscribed is an answer, "YES", not an opt-in);
# - `existing`/`created` find or create the conversation (created with unread_count 1 for this text);
# - `stored` inserts the text once (ON CONFLICT on the sid: Twilio's retries change nothing);
# - `bumped` counts it unread in an existing conversation, only if `stored` really inserted it;
# - `recent`: for a filed text, the broadcasts queued recently enough to hold a delivery sent within
#   REPLY_WINDOW; broadcast_reply_record then counts the text as a reply to the latest one the member got,
#   once per member and broadcast (a yes or a no queued by `answered` is counted by events' reader instead).
# - `surveying`: whether a filed text's member has an active survey run (their text answers it);
# - the last column: whether a filed text is the code word of an event whose door is open now (events:
#   checking in), one probe of the events' unique index on upper(code_word); none at all for a text that
#   cannot be one (`word` empty: a sentence, most texts);
# - `answered`: a subscribed member's yes or no queued for events' reader (RSVPs are read off this path).
# A single statement is atomic by itself: no transaction round trips on the hot path.
RECEIVE = Statement(
    "receive",
    """
WITH fan AS (SELECT id, status, language FROM {schema}.signup_member WHERE phone = %(phone)s),
filing AS (SELECT id FROM fan WHERE %(plain)s OR (%(start)s AND status = 'subscribed')),
existing AS (
    SELECT id FROM {schema}.messaging_conversation
    WHERE phone = %(phone)s AND EXISTS (SELECT 1 FROM filing)
),
created AS (
    INSERT INTO {schema}.messaging_conversation
        (phone, member_id, status, unread_count, last_message_at, last_message_preview, created_at)
    SELECT %(phone)s, filing.id, 'open', 1, %(now)s, %(preview)s, %(now)s FROM filing
    WHERE NOT EXISTS (SELECT 1 FROM existing)
        AND NOT EXISTS (SELECT 1 FROM {schema}.messaging_message WHERE twilio_sid = %(sid)s)
    ON CONFLICT (phone) DO NOTHING
    RETURNING id
),
stored AS (
    INSERT INTO {schema}.messaging_message
        (member_id, conversation_id, phone, direction, kind, body, status, twilio_sid, failure_reason,
         attempts, created_at, updated_at, details)
    VALUES ((SELECT id FROM fan), COALESCE((SELECT id FROM existing), (SELECT id FROM created)), %(phone)s,
            'in', 'conversation', %(body)s, 'received', %(sid)s, '', 0, %(now)s, %(now)s, %(details)s::jsonb)
    ON CONFLICT (twilio_sid) DO NOTHING
    RETURNING id, conversation_id
),
bumped AS (
    UPDATE {schema}.messaging_conversation SET
        unread_count = unread_count + 1,
        last_message_at = GREATEST(last_message_at, %(now)s),
        last_message_preview = %(preview)s,
        status = 'open',
        member_id = COALESCE(member_id, (SELECT id FROM filing))
    WHERE id = (SELECT id FROM existing) AND EXISTS (SELECT 1 FROM stored)
),
recent AS (
    -- The broadcasts recent enough to hold a delivery to this member within the reply window: a few ids,
    -- from the index on queued_at. Their deliveries are read afterwards by a statement that names them
    -- (broadcast_reply_record): named here, the partitioned table would make this prepared statement's
    -- plan hold, and lock on every run, every partition of every broadcast ever sent.
    SELECT array_agg(broadcast.id) AS ids FROM {schema}.messaging_broadcast AS broadcast
    WHERE broadcast.queued_at >= %(queued_since)s
        AND EXISTS (SELECT 1 FROM filing) AND EXISTS (SELECT 1 FROM stored)
),
answered AS (
    -- A subscribed member's filed yes or no (%(answer)s: events.replies read it in Python) that no survey
    -- question waits for: queued for events' reader (events.services.answers_read, on a queue worker),
    -- which finds the event it answers and texts the member back. Never the event's lock here.
    INSERT INTO {schema}.events_pendinganswer (member_id, message_id, answer, received_at)
    SELECT fan.id, stored.id, %(answer)s::varchar, %(now)s FROM fan, stored
    WHERE %(answer)s::varchar <> '' AND fan.status = 'subscribed' AND EXISTS (SELECT 1 FROM filing)
        AND NOT EXISTS (SELECT 1 FROM {schema}.surveys_run AS run
                        WHERE run.member_id = fan.id AND run.state = 'active')
    RETURNING 1
)
SELECT (SELECT id FROM stored), (SELECT conversation_id FROM stored), fan.id, fan.status, (SELECT ids FROM recent),
    -- A filed text of a member with an active survey run answers its question (surveys.services.run_answer):
    -- one probe of the partial unique index that holds active runs only.
    EXISTS (SELECT 1 FROM {schema}.surveys_run AS run
            WHERE run.member_id = (SELECT id FROM filing) AND run.state = 'active'),
    %(word)s <> '' AND EXISTS (SELECT 1 FROM {schema}.events_event AS event
            WHERE upper(event.code_word) = %(word)s AND event.cancelled_at IS NULL
                AND event.starts_at <= %(now)s + interval '2 hours'
                AND event.ends_at >= %(now)s - interval '2 hours'
                AND EXISTS (SELECT 1 FROM filing)),
    EXISTS (SELECT 1 FROM answered)
FROM (SELECT 1) AS one LEFT JOIN fan ON TRUE
""",
)

# The rare fallback when a member's first two texts arrive at the same moment and the other one created
# the conversation between RECEIVE's read and its insert: file the stored text in it.
FILE = Statement(
    "file",
    """
WITH conversation AS (
    INSERT INTO {schema}.messaging_conversation AS existing
        (phone, member_id, status, unread_count, last_message_at, last_message_preview, created_at)
    VALUES (%(phone)s, %(member_id)s, 'open', 1, %(now)s, %(preview)s, %(now)s)
    ON CONFLICT (phone) DO UPDATE SET
        unread_count = existing.unread_count + 1,
        last_message_at = GREATEST(existing.last_message_at, EXCLUDED.last_message_at),
        last_message_preview = EXCLUDED.last_message_preview,
        status = 'open',
        member_id = COALESCE(existing.member_id, EXCLUDED.member_id)
    RETURNING id
)
UPDATE {schema}.messaging_message SET conversation_id = (SELECT id FROM conversation) WHERE id = %(message_id)s
""",
)

# A newcomer's plain text (a phone that is not a member) gets the welcome and a personal link, or the polite
# refusal of their country, in one statement: nothing when the consent ledger's last member-less record for
# the phone is an opt-out (STOP before joining), or a link or refusal went out within RESEND_LINK_AFTER;
# otherwise the link's token (when there is one) and the answer are recorded, and the leader's monthly
# counter (Leader.COUNT_SENT_SQL, in the public schema) counts the answer. A viral burst is thousands of
# these a second.
WELCOME = Statement(
    "welcome",
    """
WITH stopped AS (
    SELECT kind = 'opt_out' AS yes FROM {schema}.signup_consentrecord
    WHERE phone_hash = %(phone_hash)s AND member_id IS NULL
    ORDER BY id DESC  -- the order lines were written: an erasure truncates created_at to the day
    LIMIT 1
),
recent AS (
    SELECT 1 FROM {schema}.messaging_message
    WHERE phone = %(phone)s AND direction = 'out' AND kind IN ('welcome', 'notice')
        AND created_at >= %(recent_since)s
    LIMIT 1
),
answering AS (
    SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM recent) AND NOT COALESCE((SELECT yes FROM stopped), FALSE)
),
link AS (
    INSERT INTO {schema}.signup_signuptoken (token_hash, phone, language, created_at, expires_at)
    SELECT %(token_hash)s, %(phone)s, %(language)s, %(now)s, %(expires_at)s FROM answering
    WHERE %(token_hash)s::varchar IS NOT NULL
),
answer AS (
    INSERT INTO {schema}.messaging_message
        (phone, direction, kind, body, status, failure_reason, attempts, created_at, sent_at, updated_at)
    SELECT %(phone)s, 'out', %(kind)s, %(body)s, 'wired', '', 1, %(now)s, %(now)s, %(now)s FROM answering
    RETURNING id
),
counted AS ({count_sent} AND EXISTS (SELECT 1 FROM answer))
SELECT EXISTS (SELECT 1 FROM answer)
""",
    count_sent=Leader.COUNT_SENT_SQL,
)

# A newcomer's plain text from outside the leader's pilot regions: the phone goes on the waitlist (or its
# entry is refreshed: where it is, its language when the text told it, when it last asked) and gets the
# "not there yet" notice, no link; in one statement, as WELCOME. Nothing when the consent ledger's last
# member-less record for the phone is an opt-out (STOP is final: not even waitlisted), and no second notice
# within WAITLIST_ANSWER_EVERY (a day) of the last: texts in between are stored and refresh the entry only.
# An entry already invited keeps its invitation (never a second one).
WAITLIST = Statement(
    "waitlist",
    """
WITH stopped AS (
    SELECT kind = 'opt_out' AS yes FROM {schema}.signup_consentrecord
    WHERE phone_hash = %(phone_hash)s AND member_id IS NULL
    ORDER BY id DESC
    LIMIT 1
),
listed AS (
    INSERT INTO {schema}.members_waitlistentry AS entry
        (phone, country, region, language, created_at, last_text_at)
    SELECT %(phone)s, %(country)s, %(region)s, %(language)s, %(now)s, %(now)s
    WHERE NOT COALESCE((SELECT yes FROM stopped), FALSE)
    ON CONFLICT (phone) DO UPDATE SET
        country = EXCLUDED.country,
        region = EXCLUDED.region,
        language = CASE WHEN %(language_told)s THEN EXCLUDED.language ELSE entry.language END,
        last_text_at = EXCLUDED.last_text_at
    RETURNING 1
),
recent AS (
    SELECT 1 FROM {schema}.messaging_message
    WHERE phone = %(phone)s AND direction = 'out' AND kind = 'notice' AND created_at >= %(recent_since)s
    LIMIT 1
),
answer AS (
    INSERT INTO {schema}.messaging_message
        (phone, direction, kind, body, status, failure_reason, attempts, created_at, sent_at, updated_at)
    SELECT %(phone)s, 'out', 'notice', %(body)s, 'wired', '', 1, %(now)s, %(now)s, %(now)s
    WHERE EXISTS (SELECT 1 FROM listed) AND NOT EXISTS (SELECT 1 FROM recent)
    RETURNING id
),
counted AS ({count_sent} AND EXISTS (SELECT 1 FROM answer))
SELECT EXISTS (SELECT 1 FROM answer)
""",
    count_sent=Leader.COUNT_SENT_SQL,
)

STATEMENTS = (RECEIVE, FILE, WELCOME, WAITLIST)
