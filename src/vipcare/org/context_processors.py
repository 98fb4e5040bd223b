from vipcare.core.registry import nav_for
from vipcare.org.selectors import staff_for_user


def staff(request):
    current = staff_for_user(getattr(request, "user", None))
    return {"current_staff": current, "app_nav": nav_for(current)}
