"""A -p plugin with an ini option and a configure-time global."""
import os


def pytest_addoption(parser):
    parser.addini("fid_greeting", "a greeting", default="hi")


def pytest_configure(config):
    os.environ["FID_GREETING"] = config.getini("fid_greeting")
