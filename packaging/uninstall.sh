#!/bin/sh
# Remove what install.sh put in place: exactly the files and folders listed in the installation's
# manifest (~/.local/share/advviewer/program/.install-manifest). Folders it created go only when
# empty, since they may hold other programs' files by now. advviewer's own settings
# (~/.config/advviewer) were not put there by install.sh and are kept.
set -eu

data=${XDG_DATA_HOME:-$HOME/.local/share}
program=$data/advviewer/program
manifest=$program/.install-manifest
quiet=no
while [ $# -gt 0 ]; do
    case $1 in
        --quiet) quiet=yes ;;
        --manifest) manifest=$2; shift ;;  # install.sh's roll-back of a failed installation
        *) echo "usage: uninstall.sh" >&2; exit 2 ;;
    esac
    shift
done
[ -f "$manifest" ] || { echo "uninstall.sh: advviewer is not installed for this user (no $manifest)" >&2; exit 1; }

# read first: the manifest lives in the program folder removed below
entries=$(cat "$manifest")
each() {  # each KIND: the paths of that kind, in the order install.sh recorded them
    printf '%s\n' "$entries" | while IFS= read -r line; do
        case $line in "$1 "*) printf '%s\n' "${line#"$1" }" ;; esac
    done
}

each f | while IFS= read -r path; do
    if [ -L "$path" ] || [ -f "$path" ]; then rm -f "$path"; fi
done
each t | while IFS= read -r tree; do
    # only a folder that still looks like the program: never a path someone reused
    if [ -x "$tree/advviewer" ] && [ -d "$tree/_internal" ]; then rm -rf "$tree"; fi
done
# deepest first (install.sh recorded parents before children)
each d | awk '{ line[NR] = $0 } END { for (i = NR; i > 0; i--) print line[i] }' | while IFS= read -r dir; do
    rmdir "$dir" 2>/dev/null || true
done
[ "$quiet" = yes ] || echo "advviewer is uninstalled (its settings in ~/.config/advviewer, if any, are kept)"
