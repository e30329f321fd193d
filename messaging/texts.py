"""The automatic texts fans get, in their language.

Kept as a table in code rather than gettext catalogues because each is an SMS whose length is a cost:
tests check every language against its segment budget (the welcome text with its link fits in two
segments, even when a name with an accent such as í makes it UCS-2: 134 characters). A leader's own wording (Leader.welcome_text, help_text, voice_greeting) replaces the default.
"""

from __future__ import annotations

LANGUAGES = ("en", "fr", "es", "de", "ar")

TEXTS: dict[str, dict[str, str]] = {
    # Sent with a personal signup link to a phone that is not a member yet.
    "welcome": {
        "en": "{leader}: thanks! Join my community: {link}",
        "fr": "{leader} : merci ! Rejoignez-nous : {link}",
        "es": "{leader}: ¡gracias! Únete aquí: {link}",
        "de": "{leader}: Danke! Mach mit: {link}",
        "ar": "{leader}: شكرًا! انضم إلينا: {link}",
    },
    # A phone from a country the leader does not accept: polite, and no link.
    "country_refused": {
        "en": "{leader}: thanks for texting! Sorry, this community is only open to numbers from {countries}.",
        "fr": "{leader} : merci ! Désolé, cette communauté n'accepte que les numéros de : {countries}.",
        "es": "{leader}: ¡gracias! Lo siento, esta comunidad solo acepta números de: {countries}.",
        "de": "{leader}: Danke! Leider nimmt diese Community nur Nummern aus {countries} auf.",
        "ar": "{leader}: شكرًا! عذرًا، هذا المجتمع مفتوح فقط للأرقام من: {countries}.",
    },
    # A phone from outside the leader's pilot regions: waitlisted, no link (at most once a day).
    "waitlisted": {
        "en": "{leader}: thanks for texting! We're not in your area yet. We'll text you when we are.",
        "fr": "{leader} : merci ! Nous ne sommes pas encore dans votre région. On vous écrira dès que ce sera le cas.",
        "es": "{leader}: ¡gracias! Aún no estamos en tu zona. Te escribiremos cuando lleguemos.",
        "de": "{leader}: Danke! Wir sind noch nicht in deiner Region. Wir schreiben dir, sobald es so weit ist.",
        "ar": "{leader}: شكرًا! لسنا في منطقتك بعد. سنراسلك عندما نصل إليها.",
    },
    # Their region opened: the waitlisted phone's one invitation, with a personal signup link.
    "waitlist_invite": {
        "en": "{leader}: we're in your area now! Join: {link}",
        "fr": "{leader} : nous voici dans votre région ! {link}",
        "es": "{leader}: ¡ya estamos en tu zona! Únete: {link}",
        "de": "{leader}: Wir sind jetzt bei dir! Mach mit: {link}",
        "ar": "{leader}: وصلنا إلى منطقتك! انضم إلينا: {link}",
    },
    "help": {
        "en": "{leader}: texts from this number. Reply STOP to stop, START to come back. Msg&data rates may apply.",
        "fr": "{leader} : textos de ce numéro. Répondez STOP pour arrêter, START pour revenir.",
        "es": "{leader}: mensajes de este número. Responde STOP para dejarlos, START para volver.",
        "de": "{leader}: SMS von dieser Nummer. Antworte STOP zum Abmelden, START zum Zurückkommen.",
        "ar": "{leader}: رسائل من هذا الرقم. أرسل STOP للإيقاف و START للعودة.",
    },
    "stop": {
        "en": "{leader}: you're unsubscribed and will get no more texts. Reply START to come back.",
        "fr": "{leader} : vous êtes désabonné et ne recevrez plus de textos. Répondez START pour revenir.",
        "es": "{leader}: te has dado de baja y no recibirás más mensajes. Responde START para volver.",
        "de": "{leader}: Du bist abgemeldet und bekommst keine SMS mehr. Antworte START, um zurückzukommen.",
        "ar": "{leader}: تم إلغاء اشتراكك ولن تصلك رسائل أخرى. أرسل START للعودة.",
    },
    "start": {
        "en": "{leader}: welcome back! You'll get texts again. Reply STOP to stop, HELP for help.",
        "fr": "{leader} : bon retour ! Vous recevrez de nouveau les textos. STOP pour arrêter, HELP pour l'aide.",
        "es": "{leader}: ¡bienvenido de nuevo! Volverás a recibir mensajes. STOP para dejarlo, HELP para ayuda.",
        "de": "{leader}: Willkommen zurück! Du bekommst wieder SMS. STOP zum Abmelden, HELP für Hilfe.",
        "ar": "{leader}: أهلًا بعودتك! ستصلك الرسائل من جديد. أرسل STOP للإيقاف و HELP للمساعدة.",
    },
    # After the signup form is submitted.
    "confirmation": {
        "en": "{leader}: you're in, {first_name}! Thanks for joining. Reply STOP to stop, HELP for help.",
        "fr": "{leader} : c'est fait, {first_name} ! Merci de nous rejoindre. STOP pour arrêter, HELP pour l'aide.",
        "es": "{leader}: ¡ya estás dentro, {first_name}! Gracias por unirte. STOP para dejarlo, HELP para ayuda.",
        "de": "{leader}: Du bist dabei, {first_name}! Danke fürs Mitmachen. STOP zum Abmelden, HELP für Hilfe.",
        "ar": "{leader}: تم انضمامك يا {first_name}! شكرًا لك. أرسل STOP للإيقاف و HELP للمساعدة.",
    },
    # A member asks to update their details: a fresh link.
    "update_link": {
        "en": "{leader}: update your details here: {link}",
        "fr": "{leader} : modifiez vos informations ici : {link}",
        "es": "{leader}: actualiza tus datos aquí: {link}",
        "de": "{leader}: Aktualisiere deine Angaben hier: {link}",
        "ar": "{leader}: حدّث بياناتك هنا: {link}",
    },
    # A member texted "STOP <topic>": that topic only; how to follow it again ({join}: messaging.topic_keywords).
    "topic_left": {
        "en": "{leader}: you'll get no more news about {topic}. Reply JOIN {topic} to follow it again.",
        "fr": "{leader} : vous ne recevrez plus d'infos sur {topic}. Répondez SUIVRE {topic} pour le suivre à nouveau.",
        "es": "{leader}: ya no recibirás noticias sobre {topic}. Responde SEGUIR {topic} para seguirlo de nuevo.",
        "de": "{leader}: Du bekommst keine Neuigkeiten zu {topic} mehr. Antworte FOLGEN {topic}, um wieder zu folgen.",
        "ar": "{leader}: لن تصلك أخبار عن {topic} بعد الآن. أرسل اشترك {topic} لمتابعته من جديد.",
    },
    # A member texted "JOIN <topic>".
    "topic_joined": {
        "en": "{leader}: you now follow {topic}. Reply STOP {topic} to leave it, STOP alone to stop all texts.",
        "fr": "{leader} : vous suivez {topic}. STOP {topic} pour ne plus le suivre, STOP seul pour tout arrêter.",
        "es": "{leader}: ahora sigues {topic}. STOP {topic} para dejarlo, solo STOP para no recibir nada.",
        "de": "{leader}: Du folgst jetzt {topic}. STOP {topic} zum Entfolgen, nur STOP für keine SMS mehr.",
        "ar": "{leader}: أنت تتابع الآن {topic}. أرسل STOP {topic} لإلغاء المتابعة، أو STOP وحدها لإيقاف كل الرسائل.",
    },
    # "STOP <something>" or "JOIN <something>" that names none of the leader's topics: the list of them.
    "topic_unknown": {
        "en": "{leader}: no topic called {asked}. Topics: {topics}. Text JOIN or STOP and a topic; STOP alone stops all texts.",
        "fr": "{leader} : aucun sujet {asked}. Sujets : {topics}. Écrivez SUIVRE ou STOP et un sujet ; STOP seul arrête tout.",
        "es": "{leader}: no hay tema {asked}. Temas: {topics}. Escribe SEGUIR o STOP y un tema; solo STOP lo detiene todo.",
        "de": "{leader}: Kein Thema {asked}. Themen: {topics}. Schreib FOLGEN oder STOP und ein Thema; nur STOP stoppt alles.",
        "ar": "{leader}: لا يوجد موضوع {asked}. المواضيع: {topics}. أرسل اشترك أو STOP مع موضوع، أو STOP وحدها لإيقاف كل شيء.",
    },
    # A member volunteered (VOLUNTEER, a survey's answer, a teammate) and their district has a coordinator.
    "volunteer_district": {
        "en": "{leader}: thank you for volunteering in {district}! A coordinator will text you here soon.",
        "fr": "{leader} : merci de votre engagement bénévole à {district} ! Un coordinateur vous écrira ici bientôt.",
        "es": "{leader}: ¡gracias por ser voluntario en {district}! Un coordinador te escribirá aquí pronto.",
        "de": "{leader}: Danke, dass du in {district} mithelfen willst! Eine Koordination schreibt dir bald hier.",
        "ar": "{leader}: شكرًا لتطوعك في {district}! سيراسلك منسق هنا قريبًا.",
    },
    # A member volunteered and no district (or none of its coordinators) could take them: the team will.
    "volunteer_team": {
        "en": "{leader}: thank you for volunteering! Our team will text you here soon.",
        "fr": "{leader} : merci de votre engagement bénévole ! Notre équipe vous écrira ici bientôt.",
        "es": "{leader}: ¡gracias por ser voluntario! Nuestro equipo te escribirá aquí pronto.",
        "de": "{leader}: Danke, dass du mithelfen willst! Unser Team schreibt dir bald hier.",
        "ar": "{leader}: شكرًا لتطوعك! سيراسلك فريقنا هنا قريبًا.",
    },
    # Spoken by the voice webhook when someone calls the number.
    "voice_greeting": {
        "en": "Hi, this is {leader}. Thanks for calling! Text me at this number to join my community.",
        "fr": "Bonjour, ici {leader}. Merci de votre appel ! Envoyez-moi un texto à ce numéro pour rejoindre ma communauté.",
        "es": "Hola, soy {leader}. ¡Gracias por llamar! Envíame un mensaje a este número para unirte a mi comunidad.",
        "de": "Hallo, hier ist {leader}. Danke für deinen Anruf! Schreib mir eine SMS an diese Nummer, um meiner Community beizutreten.",
        "ar": "مرحبًا، معك {leader}. شكرًا لاتصالك! أرسل لي رسالة نصية على هذا الرقم للانضمام إلى مجتمعي.",
    },
}

# The leader's own wording, when set, replaces these defaults (in every language: leaders write once).
LEADER_OVERRIDES = {"welcome": "welcome_text", "help": "help_text", "voice_greeting": "voice_greeting"}


def language_or_default(language: str | None, default: str = "en") -> str:
    code = (language or "").split("-")[0].split("_")[0].lower()
    return code if code in LANGUAGES else default


def auto_text(name: str, *, language: str | None, leader, **values: str) -> str:
    """The automatic text `name` for this leader in `language` (falling back to English).

    `values` fill the placeholders ({link}, {first_name}, {countries}); {leader} is the leader's name.
    A leader's own welcome text gets the link appended when it does not place {link} itself.
    """
    custom_field = LEADER_OVERRIDES.get(name)
    custom = getattr(leader, custom_field, "") if custom_field else ""
    if custom:
        template = custom if "{link}" in custom or "link" not in values else custom.rstrip() + " {link}"
    else:
        template = TEXTS[name][language_or_default(language)]
    fields = {"leader": leader.name, **values}
    return _fill(template, fields)


def _fill(template: str, fields: dict[str, str]) -> str:
    """str.format that leaves unknown or malformed braces from a leader's own text as they are."""
    out = template
    for key, value in fields.items():
        out = out.replace("{" + key + "}", str(value))
    return out
