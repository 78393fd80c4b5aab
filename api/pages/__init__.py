"""The inspector's and the institution's pages: server-rendered (Jinja2), Simplified Chinese by
default and English by a switch, every string through gettext catalogues (Babel)."""
