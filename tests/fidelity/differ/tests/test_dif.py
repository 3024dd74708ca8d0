"""Built to differ between the strategies, in a way mutcell cannot detect:
the test looks at the arguments pytest was started with. A fresh pytest.main
names the selected tests; the collected zygote's session was started without."""
from dif import core


def test_mode(request):
    m = core.mode()
    if any("::" in str(a) for a in request.config.invocation_params.args):
        assert m == "strict"


def test_other():
    assert core.other(1) == 2
