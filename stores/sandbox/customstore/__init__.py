"""The sandbox customstore (its code is in state.py until it is split by concern)."""
from .state import *  # noqa: F401,F403
