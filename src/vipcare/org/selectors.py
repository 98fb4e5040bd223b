from django.db.models import QuerySet

from vipcare.org.models import Staff, Store


def stores_visible_to(staff: Staff) -> QuerySet[Store]:
    if staff.sees_all_stores:
        return Store.objects.filter(organisation=staff.organisation)
    return staff.stores.all()


def staff_for_user(user) -> Staff | None:
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.staff
    except Staff.DoesNotExist:
        return None


def user_has_role(user, roles) -> bool:
    """A superuser, or an active staff member with one of `roles` (services check this before
    changes only some roles may make: adjusting points, paying out stored value, issuing coupons)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    staff = staff_for_user(user)
    return staff is not None and staff.is_active and staff.role in roles
