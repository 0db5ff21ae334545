"""System checks of ShipBridge's own settings, run by every `manage.py` command that checks
(runserver, migrate, check...): a start without keys is refused, naming what is missing.

- shipbridge.E001  SECRET_KEY is not set
- shipbridge.E002  SHIPBRIDGE_ENCRYPTION_KEYS is not set
- shipbridge.E003  a value of SHIPBRIDGE_ENCRYPTION_KEYS is not a Fernet key
- shipbridge.E004  SHIPBRIDGE_SESSION_HOURS is not a positive number of hours
- shipbridge.E005  AXES_FAILURE_LIMIT is below 1

No key ships with ShipBridge, so these hold with DEBUG on as well: there is nothing to fall
back to."""
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shipbridge.keys import ENCRYPTION_KEYS_FILE, SECRET_KEY_FILE

# (id, setting, what it is for, what to set it to, the embedded run's file)
REQUIRED_KEYS = (
    ("shipbridge.E001", "SECRET_KEY", _("sign sessions and forms with"),
     _("a long random value, e.g. the output of `python -c \"import secrets; print(secrets.token_urlsafe(64))\"`"),
     SECRET_KEY_FILE),
    ("shipbridge.E002", "SHIPBRIDGE_ENCRYPTION_KEYS", _("encrypt store passwords with"),
     _("a Fernet key, e.g. the output of `python -c \"from cryptography.fernet import Fernet; "
       "print(Fernet.generate_key().decode())\"`"),
     ENCRYPTION_KEYS_FILE),
)


def _setting(name):
    try:
        return getattr(settings, name)
    except ImproperlyConfigured:  # Django refuses to hand out an empty SECRET_KEY
        return ""


@register(Tags.security)
def keys_are_set(app_configs, **kwargs):
    errors = []
    for check_id, name, purpose, value, filename in REQUIRED_KEYS:
        if not _setting(name):
            errors.append(Error(
                gettext("{name} is not set: ShipBridge has no key to {purpose}.").format(name=name, purpose=purpose),
                hint=gettext("Set {name} in the environment to {value}. The embedded run (scripts/run) sets "
                             "SHIPBRIDGE_EMBEDDED=1 and keeps its own in {file} (made on first start); set "
                             "SHIPBRIDGE_EMBEDDED=1 too for a manage.py command on its database.").format(
                    name=name, value=value, file=f"{settings.VAR_DIR}/{filename}"),
                id=check_id,
            ))
    keys = settings.SHIPBRIDGE_ENCRYPTION_KEYS
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key.strip().encode())
        except (ValueError, TypeError):
            errors.append(Error(
                gettext("SHIPBRIDGE_ENCRYPTION_KEYS: key {number} of {count} is not a Fernet key (32 url-safe "
                        "base64-encoded bytes).").format(number=number, count=len(keys)),
                hint=gettext("Keys are separated by commas, the first one encrypts; generate one with "
                             "`Fernet.generate_key()`."),
                id="shipbridge.E003",
            ))
    return errors


@register(Tags.security)
def login_limits_are_sane(app_configs, **kwargs):
    errors = []
    if settings.SESSION_COOKIE_AGE <= 0:
        errors.append(Error(
            gettext("SHIPBRIDGE_SESSION_HOURS is {value}: every login would end at once.").format(
                value=settings.SHIPBRIDGE_SESSION_HOURS),
            hint=gettext("Set a number of hours above 0 (the default is 12)."),
            id="shipbridge.E004",
        ))
    if settings.AXES_FAILURE_LIMIT < 1:
        errors.append(Error(
            gettext("AXES_FAILURE_LIMIT is {value}: at least one wrong password must be allowed.").format(
                value=settings.AXES_FAILURE_LIMIT),
            hint=gettext("Set a number of attempts of 1 or more (the default is 10)."),
            id="shipbridge.E005",
        ))
    return errors
