def lockout_username(request, credentials) -> str | None:
    """The account an attempt counts against: the email, case-folded (sign-in ignores case)."""
    username = (credentials or {}).get("username") or request.POST.get("username")
    return username.strip().lower() if username else None
