"""Makes Debian's python-can 4.1 usb2can backend importable on Linux.

Contract: importing this module, before anything imports ``can``, does only
what a Windows machine provides for free and nothing else:

- stubs the ``win32com``, ``win32com.client`` and ``pythoncom`` modules, which
  the backend imports for WMI serial discovery (never called here: every test
  names its channel);
- sets ``ctypes.windll = ctypes.cdll``: the backend loads the DLL with
  ``windll.LoadLibrary(dll)``, which on Linux then loads a shared object.

No python-can code is patched, wrapped or replaced. The module then imports
``can`` and exposes it with the paths the runner was given:
``LIBRARY`` (libusb2can.so) and ``RECORDER`` (the pass-through library).
"""

import ctypes
import os
import sys
import types

if "can" in sys.modules:
    raise RuntimeError("pythoncan_on_linux must be imported before python-can")

for _name in ("win32com", "win32com.client", "pythoncom"):
    sys.modules.setdefault(_name, types.ModuleType(_name))
sys.modules["win32com"].client = sys.modules["win32com.client"]

ctypes.windll = ctypes.cdll

import can  # noqa: E402  (must follow the stubs)
from can.interfaces.usb2can import usb2canabstractionlayer as layer  # noqa: E402

LIBRARY = os.environ.get("U2C_LIBRARY", "")
RECORDER = os.environ.get("U2C_RECORDER", "")


def check_environment():
    """Reasons this is not the python-can the tests are written for."""
    problems = []
    if not can.__version__.startswith("4.1."):
        problems.append(f"python-can {can.__version__} (tests target Debian's 4.1)")
    if not can.__file__.startswith("/usr/lib/python3/"):
        problems.append(f"python-can imported from {can.__file__}, not Debian's package")
    if not LIBRARY or not os.path.isfile(LIBRARY):
        problems.append(f"U2C_LIBRARY does not name the built library: {LIBRARY!r}")
    return problems
