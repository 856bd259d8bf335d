"""dixian (底线): hold the line against any large-scale return to poverty."""

__version__ = "0.1.0"
