# shellcheck shell=bash
# Kernel package handling for images/build.sh: pin, download, verify and unpack Debian's cloud kernel.
# Sourced, not run. Uses CACHE_DIR, LOCK_FILE, META_PACKAGE and the log helpers from build.sh.

# read_lock: sets LOCK_PACKAGE, LOCK_VERSION, LOCK_SHA256 (empty when there is no lock).
read_lock() {
    LOCK_PACKAGE='' LOCK_VERSION='' LOCK_SHA256=''
    [[ -f $LOCK_FILE ]] || return 0
    local key value
    while IFS='=' read -r key value; do
        case $key in
            package) LOCK_PACKAGE=$value ;;
            version) LOCK_VERSION=$value ;;
            sha256) LOCK_SHA256=$value ;;
        esac
    done < "$LOCK_FILE"
    if [[ -z $LOCK_PACKAGE || -z $LOCK_VERSION || ! $LOCK_SHA256 =~ ^[0-9a-f]{64}$ ]]; then
        die "$LOCK_FILE is incomplete: it needs package=, version= and sha256= (64 hex digits)"
    fi
}

# write_lock PACKAGE VERSION SHA256 RELEASE
write_lock() {
    local tmp=$LOCK_FILE.tmp
    {
        echo "# Guest kernel pinned by images/build.sh (Debian $META_PACKAGE at the time of pinning)."
        echo "# The build refuses a cached .deb whose SHA-256 differs; --update-kernel moves the pin."
        echo "package=$1"
        echo "version=$2"
        echo "sha256=$3"
        echo "release=$4"
    } > "$tmp"
    mv -f "$tmp" "$LOCK_FILE"
}

# deb_path PACKAGE VERSION: where the .deb lives in the cache.
deb_path() {
    echo "$CACHE_DIR/${1}_${2//:/%3a}_amd64.deb"
}

# resolve_current_kernel: prints "PACKAGE VERSION" that the metapackage's candidate depends on.
resolve_current_kernel() {
    local candidate depends item name version items=()
    candidate=$(LC_ALL=C apt-cache policy "$META_PACKAGE" 2>/dev/null |
        awk '$1 == "Candidate:" { print $2 }')
    if [[ -z $candidate || $candidate == '(none)' ]]; then
        die "apt knows no candidate for $META_PACKAGE; run 'apt-get update' (Debian's mirror must be reachable)"
    fi
    depends=$(LC_ALL=C apt-cache show "$META_PACKAGE=$candidate" |
        awk -F': ' '$1 == "Depends" { print $2; exit }')
    IFS=',' read -ra items <<< "$depends"
    for item in "${items[@]}"; do
        item=${item# }
        name=${item%% *}
        [[ $name == linux-image-* ]] || continue
        version=''
        if [[ $item =~ \(=\ *([^\)]+)\) ]]; then
            version=${BASH_REMATCH[1]}
        else
            version=$(LC_ALL=C apt-cache policy "$name" | awk '$1 == "Candidate:" { print $2 }')
        fi
        [[ -n $version ]] || die "cannot tell which version of $name $META_PACKAGE $candidate wants"
        echo "$name $version"
        return 0
    done
    die "$META_PACKAGE $candidate depends on no linux-image-* package (Depends: $depends)"
}

# is_downloadable PACKAGE VERSION: true when the local apt index still lists that version.
is_downloadable() {
    LC_ALL=C apt-cache madison "$1" 2>/dev/null |
        awk -F'|' -v want="$2" '{ gsub(/ /, "", $2) } $2 == want { found = 1 } END { exit !found }'
}

# download_deb PACKAGE VERSION: fetches the .deb into the cache at deb_path, atomically.
download_deb() {
    local package=$1 version=$2 dest tmp_dir file
    dest=$(deb_path "$package" "$version")
    tmp_dir=$(mktemp -d "$CACHE_DIR/.download.XXXXXX")
    local apt_opts=()
    # apt drops to the _apt user to download, which cannot write into a root-owned cache.
    [[ $EUID -eq 0 ]] && apt_opts=(-o APT::Sandbox::User=root)
    progress "downloading $package $version"
    if ! (cd "$tmp_dir" && apt-get download -q "${apt_opts[@]}" "$package=$version" > download.log 2>&1); then
        sed 's/^/    /' "$tmp_dir/download.log" >&2
        rm -rf "$tmp_dir"
        die "apt-get download $package=$version failed (is Debian's mirror reachable? try 'apt-get update')"
    fi
    file=$(find "$tmp_dir" -maxdepth 1 -name "${package}_*.deb" | head -n 1)
    [[ -n $file ]] || die "apt-get download $package=$version produced no .deb"
    mv -f "$file" "$dest"
    rm -rf "$tmp_dir"
}

# resolve_kernel UPDATE: sets KERNEL_PACKAGE, KERNEL_VERSION, KERNEL_SHA256, KERNEL_DEB and
# updates the lock when it moves. UPDATE=1 re-resolves from the metapackage.
resolve_kernel() {
    local update=$1 deb sha package version
    mkdir -p "$CACHE_DIR"
    read_lock
    if [[ -n $LOCK_PACKAGE && $update != 1 ]]; then
        deb=$(deb_path "$LOCK_PACKAGE" "$LOCK_VERSION")
        if [[ ! -f $deb ]]; then
            if is_downloadable "$LOCK_PACKAGE" "$LOCK_VERSION"; then
                download_deb "$LOCK_PACKAGE" "$LOCK_VERSION"
            else
                deb=''
                warn "WARNING: kernel.lock pins $LOCK_PACKAGE $LOCK_VERSION, which the mirror no longer offers and the cache does not hold; moving to the current $META_PACKAGE kernel"
            fi
        fi
        if [[ -n $deb ]]; then
            sha=$(sha256_of "$deb")
            if [[ $sha != "$LOCK_SHA256" ]]; then
                die "SHA-256 mismatch for $deb: kernel.lock says $LOCK_SHA256, the file has $sha. Delete the file to download it again; if the mirror really serves different bytes, find out why before editing kernel.lock"
            fi
            KERNEL_PACKAGE=$LOCK_PACKAGE KERNEL_VERSION=$LOCK_VERSION KERNEL_SHA256=$sha KERNEL_DEB=$deb
            note_newer_kernel
            return 0
        fi
    fi
    local current
    current=$(resolve_current_kernel)
    read -r package version <<< "$current"
    deb=$(deb_path "$package" "$version")
    if [[ ! -f $deb ]]; then
        download_deb "$package" "$version"
    fi
    sha=$(sha256_of "$deb")
    if [[ $package == "$LOCK_PACKAGE" && $version == "$LOCK_VERSION" && $sha != "$LOCK_SHA256" ]]; then
        die "SHA-256 mismatch for $deb: kernel.lock says $LOCK_SHA256, the file has $sha. Delete the file to download it again"
    fi
    KERNEL_PACKAGE=$package KERNEL_VERSION=$version KERNEL_SHA256=$sha KERNEL_DEB=$deb
    # shellcheck disable=SC2034 # read by build.sh
    KERNEL_LOCK_CHANGED=1
}

# note_newer_kernel: best effort hint; apt-cache reads only the local index, so this stays offline.
note_newer_kernel() {
    local current
    current=$( (resolve_current_kernel) 2>/dev/null) || return 0
    if [[ $current != "$KERNEL_PACKAGE $KERNEL_VERSION" ]]; then
        info "note: $META_PACKAGE now points to ${current/ / }; run images/build.sh --update-kernel to move"
    fi
}

# unpack_kernel: dpkg -x the .deb into the cache once per SHA-256, then generate modules.dep
# (Debian's package leaves that to depmod in postinst). Sets KERNEL_DIR, KERNEL_RELEASE, MODULES_DIR.
unpack_kernel() {
    KERNEL_DIR=$CACHE_DIR/kernel-$KERNEL_VERSION
    local stamp=$KERNEL_DIR/.unpacked-sha256
    if [[ ! -f $stamp || $(< "$stamp") != "$KERNEL_SHA256" ]]; then
        progress "unpacking $(basename "$KERNEL_DEB")"
        rm -rf "$KERNEL_DIR" "$KERNEL_DIR.tmp"
        dpkg -x "$KERNEL_DEB" "$KERNEL_DIR.tmp"
        local module_root
        module_root=$(find_module_root "$KERNEL_DIR.tmp")
        "$DEPMOD" -b "${module_root%/lib/modules/*}" "${module_root##*/}"
        echo "$KERNEL_SHA256" > "$KERNEL_DIR.tmp/.unpacked-sha256"
        mv "$KERNEL_DIR.tmp" "$KERNEL_DIR"
    fi
    MODULES_DIR=$(find_module_root "$KERNEL_DIR")
    KERNEL_RELEASE=${MODULES_DIR##*/}
    KERNEL_IMAGE=$KERNEL_DIR/boot/vmlinuz-$KERNEL_RELEASE
    KERNEL_CONFIG=$KERNEL_DIR/boot/config-$KERNEL_RELEASE
    [[ -f $KERNEL_IMAGE ]] || die "$KERNEL_PACKAGE has no boot/vmlinuz-$KERNEL_RELEASE"
    [[ -f $KERNEL_CONFIG ]] || die "$KERNEL_PACKAGE has no boot/config-$KERNEL_RELEASE"
}

# find_module_root DIR: prints DIR/[usr/]lib/modules/<release>; exactly one release expected.
find_module_root() {
    local roots=()
    mapfile -t roots < <(find "$1/lib/modules" "$1/usr/lib/modules" -mindepth 1 -maxdepth 1 -type d 2>/dev/null)
    [[ ${#roots[@]} -eq 1 ]] || die "expected one lib/modules/<release> in $1, found ${#roots[@]}"
    echo "${roots[0]}"
}

# check_kernel_config FILE: every CONFIG_X (=y or =m) and CONFIG_X=y line must hold.
check_kernel_config() {
    local line option want have missing=()
    while read -r line; do
        [[ -z $line || $line == '#'* ]] && continue
        option=${line%%=*}
        want=${line#"$option"}
        have=$(grep -m1 "^$option=" "$KERNEL_CONFIG" | cut -d= -f2 || true)
        if [[ $want == '=y' && $have != y ]]; then
            missing+=("$option (want y, kernel has ${have:-not set})")
        elif [[ -z $want && $have != y && $have != m ]]; then
            missing+=("$option (want y or m, kernel has ${have:-not set})")
        fi
    done < "$1"
    if [[ ${#missing[@]} -gt 0 ]]; then
        die "$KERNEL_PACKAGE lacks required options from $(basename "$1"): ${missing[*]}"
    fi
}
