"""The wheel carries the weights, cards and digits, and the installed package finds them."""

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_resources_and_works_from_elsewhere(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", tmp_path / "dist", ROOT],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("advviewer-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = [p for p in (ROOT / "resources").rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    missing = [str(p.relative_to(ROOT)) for p in shipped if f"advviewer/resources/{p.relative_to(ROOT / 'resources')}" not in names]
    assert not missing, f"not in the wheel: {missing}"
    # every module of the package (a subpackage missing from pyproject's list would be left out)
    modules = [p for p in (ROOT / "advviewer").rglob("*.py") if "__pycache__" not in p.parts]
    missing = [str(p.relative_to(ROOT)) for p in modules if str(p.relative_to(ROOT)) not in names]
    assert not missing, f"not in the wheel (add the package to [tool.setuptools] packages): {missing}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", tmp_path / "site", wheel],
                   check=True, capture_output=True)
    code = ("import advviewer, sys; from advviewer import load_model, predict; from advviewer.data import load_bundled;"
            "assert advviewer.__file__.startswith(sys.argv[1]), advviewer.__file__;"
            "x = load_bundled()[0][:5] / 255.0; print(predict(load_model('cnn'), x).argmax(1).tolist())")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "site")], cwd=tmp_path, capture_output=True, text=True,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().startswith("[")


def test_core_never_imports_qt():
    """Everything but advviewer.gui runs headless: importing it must not load PySide6 or pyqtgraph."""
    code = (
        "import pkgutil, sys, importlib, advviewer\n"
        "for m in pkgutil.walk_packages(advviewer.__path__, 'advviewer.'):\n"
        "    if not m.name.startswith('advviewer.gui') and m.name != 'advviewer.__main__':\n"
        "        importlib.import_module(m.name)\n"
        "from advviewer import lbfgs_attack\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6'))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
