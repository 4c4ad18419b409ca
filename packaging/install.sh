#!/bin/sh
# Install advviewer for this user: the program folder is copied to ~/.local/share/advviewer/program
# (so the unpacked archive can be deleted, or sit on a read-only stick), a menu entry goes to
# ~/.local/share/applications, icons to ~/.local/share/icons/hicolor, the AppStream file to
# ~/.local/share/metainfo and a launcher `advviewer` to ~/.local/bin. Every file and folder it
# creates is listed in the program folder's .install-manifest; uninstall.sh removes exactly those.
# Installing again replaces an earlier installation. No root, no network, nothing else is touched.
set -eu

app_id=io.github.advviewer.advviewer
here=$(cd "$(dirname "$0")" && pwd -P)
data=${XDG_DATA_HOME:-$HOME/.local/share}
bin=$HOME/.local/bin
program=$data/advviewer/program
manifest_name=.install-manifest

die() { echo "install.sh: $*" >&2; exit 1; }

[ -x "$here/advviewer" ] && [ -d "$here/_internal" ] || die "run me from the unpacked advviewer folder (it holds the program 'advviewer')"
case "$data$bin" in
    *'"'* | *'`'* | *'$'* | *'\'* | *'%'*) die "your home folder's path ($HOME) has a character a menu entry cannot hold" ;;
esac
if [ -d "$program" ] && [ "$(cd "$program" && pwd -P)" = "$here" ]; then
    die "this copy is the installed one; to reinstall, run install.sh from the unpacked archive"
fi

# (target, source) pairs outside the program folder, sources relative to this folder
targets() {
    echo "$data/applications/advviewer.desktop"
    echo "$data/metainfo/$app_id.metainfo.xml"
    for dir in "$here"/usr/share/icons/hicolor/*/apps; do
        size=$(basename "$(dirname "$dir")")
        for file in "$dir"/*; do echo "$data/icons/hicolor/$size/apps/$(basename "$file")"; done
    done
    echo "$bin/advviewer"
}

# A file already at a target that an earlier installation did not put there is someone else's:
# refuse before changing anything.
old_manifest=$program/$manifest_name
conflict=$(targets | while IFS= read -r target; do
    if { [ -e "$target" ] || [ -L "$target" ]; } && ! { [ -f "$old_manifest" ] && grep -qxF "f $target" "$old_manifest"; }; then
        echo "$target"
        break
    fi
done)
[ -z "$conflict" ] || die "$conflict already exists and was not installed by advviewer; move it away and run install.sh again"

if [ -f "$old_manifest" ]; then
    echo "replacing the earlier installation in $program"
    sh "$here/uninstall.sh" --quiet
fi

manifest=$(mktemp "${TMPDIR:-/tmp}/advviewer-install.XXXXXX")
finished=no
rollback() {
    if [ "$finished" != yes ]; then
        echo "install.sh: installation failed; removing what was installed" >&2
        sh "$here/uninstall.sh" --quiet --manifest "$manifest" || true
        rm -rf "$program.partial"
    fi
    rm -f "$manifest"
}
trap rollback EXIT
trap 'exit 1' INT TERM HUP

# mkdir -p that records every folder it creates (removed again by uninstall.sh when empty)
make_dir() {
    [ -d "$1" ] && return 0
    make_dir "$(dirname "$1")"
    mkdir "$1"
    echo "d $1" >>"$manifest"
}

put() {  # put SOURCE TARGET: copy one file, recorded
    make_dir "$(dirname "$2")"
    echo "f $2" >>"$manifest"
    cp "$1" "$2"
}

make_dir "$data/advviewer"
echo "t $program" >>"$manifest"
echo "copying the program to $program"
rm -rf "$program.partial"
cp -R "$here" "$program.partial"
mv "$program.partial" "$program"

# the menu entry starts the installed copy by its full path: ~/.local/bin is often not on the
# PATH of a desktop session
make_dir "$data/applications"
echo "f $data/applications/advviewer.desktop" >>"$manifest"
awk -v exe="\"$program/advviewer\"" -v try="$program/advviewer" '
    /^Exec=/ { print "Exec=" exe; print "TryExec=" try; next }
    /^TryExec=/ { next }
    { print }' "$here/advviewer.desktop" >"$data/applications/advviewer.desktop"
put "$here/usr/share/metainfo/$app_id.metainfo.xml" "$data/metainfo/$app_id.metainfo.xml"
for dir in "$here"/usr/share/icons/hicolor/*/apps; do
    size=$(basename "$(dirname "$dir")")
    for file in "$dir"/*; do put "$file" "$data/icons/hicolor/$size/apps/$(basename "$file")"; done
done
make_dir "$bin"
echo "f $bin/advviewer" >>"$manifest"
ln -s "$program/advviewer" "$bin/advviewer"

cp "$manifest" "$program/$manifest_name"
finished=yes
echo "installed advviewer: start it from your desktop menu (Education), or run $bin/advviewer"
case ":$PATH:" in
    *":$bin:"*) ;;
    *) echo "note: $bin is not on your PATH; a terminal finds the program as $bin/advviewer" ;;
esac
echo "to remove it: $program/uninstall.sh"
