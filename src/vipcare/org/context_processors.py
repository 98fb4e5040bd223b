from vipcare.org.selectors import staff_for_user


def staff(request):
    return {"current_staff": staff_for_user(getattr(request, "user", None))}
