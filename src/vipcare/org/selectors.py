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
