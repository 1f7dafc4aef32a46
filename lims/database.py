"""A Django DATABASES entry as libpq parameters or as a DATABASE_URL another process can read."""

from urllib.parse import quote


def settings_conninfo(settings_dict: dict, name: str | None = None) -> dict:
    """libpq parameters of a Django DATABASES entry (a unix-socket directory works as host)."""
    params = {
        "dbname": name or settings_dict["NAME"],
        "user": settings_dict.get("USER") or None,
        "password": settings_dict.get("PASSWORD") or None,
        "host": settings_dict.get("HOST") or None,
        "port": str(settings_dict["PORT"]) if settings_dict.get("PORT") else None,
    }
    return {key: value for key, value in params.items() if value is not None}


def settings_database_url(settings_dict: dict, name: str | None = None) -> str:
    """The same database as a DATABASE_URL (django-environ reads a socket directory from the path)."""
    name = name or settings_dict["NAME"]
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = settings_dict.get("HOST") or ""
    if host.startswith("/"):
        return f"postgres://{credentials}/{quote(f'{host}/{name}', safe='')}"
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(name, safe='')}"
