#!/usr/bin/env bash
# Set-up and entry points for a fresh machine (Python 3.11, no GPU).
#   bash tools/dev.sh run [ARGS...]   install into .venv and start advviewer (the window)
#   bash tools/dev.sh test [PYTEST ARGS...]   install into .venv (+ test data) and run every test
#   bash tools/dev.sh package   build the desktop program: dist/advviewer/ and dist/advviewer-VERSION-linux-x86_64.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
# the exact version that exists as a CPU wheel here; any other (or none) pulls several GB of CUDA packages
TORCH_PIN="torch==2.13.0"
command -v "$PY" >/dev/null 2>&1 || PY=python3

setup() {
    if [ ! -x .venv/bin/python ]; then
        "$PY" -m venv .venv
    fi
    # Already installed from this very pyproject.toml: skip pip, whose two checks took 5.7 s on
    # every `run` (the window itself is painted 0.8 s after it starts). A changed pyproject.toml,
    # or a venv missing torch or advviewer, installs again.
    local stamp=.venv/.advviewer-installed wanted
    wanted="$TORCH_PIN $(sha256sum pyproject.toml | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ] && .venv/bin/python -c \
        "import importlib.util as u, sys; sys.exit(not (u.find_spec('torch') and u.find_spec('advviewer')))"; then
        return 0
    fi
    rm -f "$stamp"
    # torch first, at TORCH_PIN; /opt/wheels holds its wheel on our machines
    local find_links=()
    [ -d /opt/wheels ] && find_links=(--find-links /opt/wheels)
    # (the grep drops pip's notes about local index folders that do not exist on this machine)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "${find_links[@]}" "$TORCH_PIN" \
        2> >(grep -v "^WARNING: Location .* is ignored" >&2)
    .venv/bin/python -m pip install --quiet --disable-pip-version-check "${find_links[@]}" -e ".[test]" \
        2> >(grep -v "^WARNING: Location .* is ignored" >&2)
    echo "$wanted" > "$stamp"
}

desktop_libs() {
    # Qt's X11 plugin (libqxcb.so) links a dozen xcb/xkb libraries a fresh machine may lack
    # (Qt then aborts: "no Qt platform plugin could be initialized"). Ask the plugin itself which
    # ones do not resolve (ldd, via advviewer.gui.xcb_check), map each to its Debian package,
    # keep the ones apt knows, install, and look again: a newly installed library may need more.
    # Offscreen (the tests) needs none of them. Best effort: only where apt can install.
    [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || return 0
    command -v apt-get >/dev/null 2>&1 || return 0
    local sudo=() round line soname candidates package wanted updated=0
    [ "$(id -u)" -ne 0 ] && sudo=(sudo)
    for round in 1 2 3; do
        wanted=()
        while read -r line; do
            read -r soname candidates <<<"$line"
            package=""
            for candidate in $candidates; do
                if apt-cache show "$candidate" >/dev/null 2>&1; then package=$candidate; break; fi
            done
            if [ -z "$package" ] && [ "$updated" -eq 0 ]; then
                "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
                updated=1
                for candidate in $candidates; do
                    if apt-cache show "$candidate" >/dev/null 2>&1; then package=$candidate; break; fi
                done
            fi
            if [ -n "$package" ]; then wanted+=("$package"); else echo "note: no Debian package found for $soname" >&2; fi
        done < <(.venv/bin/python -m advviewer.gui.xcb_check --debian-packages 2>/dev/null)
        [ ${#wanted[@]} -eq 0 ] && return 0
        echo "installing the libraries Qt's X11 plugin needs: ${wanted[*]}" >&2
        if ! "${sudo[@]}" apt-get install -y -qq "${wanted[@]}" >/dev/null 2>&1; then
            echo "note: could not install ${wanted[*]}; the window will say what is missing" >&2
            return 0
        fi
    done
}

test_data() {
    # Debian's Fashion-MNIST: real IDX files for the reader's test
    [ -d /usr/share/datasets/fashion-mnist ] && return 0
    local sudo=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=(sudo)
    if ! "${sudo[@]}" apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; then
        "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
        "${sudo[@]}" apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 \
            || echo "warning: could not install dataset-fashion-mnist; its test will fail under CI" >&2
    fi
}

checks() {
    # the architecture (import-linter contracts), style (ruff) and the core's types (mypy), all
    # configured in pyproject.toml; any failure stops the test command, as a failing test does
    echo "checks: lint-imports, ruff, mypy" >&2
    .venv/bin/lint-imports --no-cache >/dev/null || { .venv/bin/lint-imports --no-cache; exit 1; }
    .venv/bin/ruff check --quiet .
    .venv/bin/mypy >/dev/null || { .venv/bin/mypy; exit 1; }
}

package_tools() {
    # PyInstaller (the package extra), the validators of the .desktop and AppStream files, and
    # the X11 libraries Qt's xcb plugin needs, so that the bundle carries them (a desktop without
    # libxcb-cursor0 or libxcb-icccm4 then still opens the window). Best effort where apt is
    # missing: the build then says what it could not validate, and the smoke test what is missing.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[package]" \
        2> >(grep -v "^WARNING: Location .* is ignored" >&2)
    local debs=(desktop-file-utils appstream libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
                libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0)
    dpkg -s "${debs[@]}" >/dev/null 2>&1 && return 0
    command -v apt-get >/dev/null 2>&1 || return 0
    local sudo=()
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && sudo=(sudo)
    if ! "${sudo[@]}" apt-get install -y -qq "${debs[@]}" >/dev/null 2>&1; then
        "${sudo[@]}" apt-get update -qq >/dev/null 2>&1 || true
        "${sudo[@]}" apt-get install -y -qq "${debs[@]}" >/dev/null 2>&1 \
            || echo "warning: could not install ${debs[*]}" >&2
    fi
}

cmd=${1:-run}
shift || true
case "$cmd" in
    run)
        setup
        desktop_libs
        exec .venv/bin/advviewer "$@"
        ;;
    test)
        setup
        test_data
        export QT_QPA_PLATFORM=offscreen
        checks
        exec .venv/bin/python -m pytest "$@"
        ;;
    setup)
        setup
        ;;
    package)
        setup
        package_tools
        exec .venv/bin/python packaging/build.py "$@"
        ;;
    *)
        echo "usage: bash tools/dev.sh run|test|setup|package [ARGS...]" >&2
        exit 2
        ;;
esac
