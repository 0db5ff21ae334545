"""django-axes' records (access attempts, lockouts, logins) in the admin, for platform superusers
only: they name every merchant's users and where they log in from, and deleting an attempt lifts
its lockout. A merchant's users never see them, whatever permissions they were given
(settings.AXES_ENABLE_ADMIN is off, so axes registers nothing itself)."""
from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin


class SuperuserOnlyAdmin:
    """Every page and action of the admin for superusers; for anyone else the app is not in
    the index and its pages answer 403."""

    @staticmethod
    def _superuser(request) -> bool:
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self._superuser(request)

    def has_view_permission(self, request, obj=None):
        return self._superuser(request)

    def has_change_permission(self, request, obj=None):
        return self._superuser(request)

    def has_delete_permission(self, request, obj=None):
        return self._superuser(request)


@admin.register(AccessAttempt)
class SuperuserAccessAttemptAdmin(SuperuserOnlyAdmin, AccessAttemptAdmin):
    pass


@admin.register(AccessLog)
class SuperuserAccessLogAdmin(SuperuserOnlyAdmin, AccessLogAdmin):
    pass


@admin.register(AccessFailureLog)
class SuperuserAccessFailureLogAdmin(SuperuserOnlyAdmin, AccessFailureLogAdmin):
    pass
