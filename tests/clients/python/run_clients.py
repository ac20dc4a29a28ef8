#!/usr/bin/python3
"""Runs the python-can client tests with the standard library's unittest.

usage: run_clients.py --library build/<preset>/libusb2can.so
                      [--recorder build/<preset>/libcanal_recorder.so] MODULE...

Contract: loads python-can through pythoncan_on_linux (the only adaptation
python-can gets), runs every test of the named modules, prints each result,
then one last line "N passed, N failed" and exits non-zero on any failure.
A skipped test, an error or a broken environment counts as failed.
"""

import argparse
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--library", required=True, help="path to libusb2can.so")
    parser.add_argument("--recorder", default="", help="path to the pass-through recorder")
    parser.add_argument("modules", nargs="+")
    args = parser.parse_args()

    os.environ["U2C_LIBRARY"] = os.path.abspath(args.library)
    if args.recorder:
        os.environ["U2C_RECORDER"] = os.path.abspath(args.recorder)
    sys.path.insert(0, HERE)
    import pythoncan_on_linux  # before any test module imports can

    problems = pythoncan_on_linux.check_environment()
    if problems:
        for problem in problems:
            print(f"environment: {problem}")
        print("0 passed, 1 failed")
        return 1
    print(f"python-can {pythoncan_on_linux.can.__version__} from "
          f"{os.path.dirname(pythoncan_on_linux.can.__file__)}, library {args.library}")

    suite = unittest.defaultTestLoader.loadTestsFromNames(args.modules)
    result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(suite)
    bad = [t for t, _ in result.failures + result.errors + result.skipped + result.expectedFailures]
    bad += result.unexpectedSuccesses
    failed = len({getattr(t, "test_case", t).id() for t in bad})  # a subTest counts its test
    passed = result.testsRun - failed
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
