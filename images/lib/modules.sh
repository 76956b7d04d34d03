# shellcheck shell=bash
# Module resolution for images/build.sh: required names -> dependency-ordered load list.
# Sourced, not run. Reads MODULES_DIR/modules.dep and modules.builtin (no modprobe involved).

# module_name PATH: kernel/drivers/misc/pvpanic/pvpanic-pci.ko.xz -> pvpanic_pci
module_name() {
    local base=${1##*/}
    base=${base%%.ko*}
    REPLY=${base//-/_}
}

# resolve_modules LIST_FILE: sets MODULE_LOAD_ORDER (paths relative to MODULES_DIR, dependencies
# first, in the order modules.dep and LIST_FILE give) and MODULES_BUILTIN (names built into the kernel).
resolve_modules() {
    local list_file=$1 dep_file=$MODULES_DIR/modules.dep builtin_file=$MODULES_DIR/modules.builtin
    [[ -f $dep_file ]] || die "$dep_file is missing (depmod did not run?)"
    declare -gA MODULE_PATH=() MODULE_DEPS=() MODULE_IS_BUILTIN=() MODULE_VISITED=()
    MODULE_LOAD_ORDER=() MODULES_BUILTIN=()
    local line path deps
    while IFS= read -r line; do
        path=${line%%:*}
        deps=${line#*:}
        module_name "$path"
        MODULE_PATH[$REPLY]=$path
        MODULE_DEPS[$path]=${deps# }
    done < "$dep_file"
    if [[ -f $builtin_file ]]; then
        while IFS= read -r path; do
            module_name "$path"
            MODULE_IS_BUILTIN[$REPLY]=1
        done < "$builtin_file"
    fi

    local name missing=()
    while read -r name; do
        [[ -z $name || $name == '#'* ]] && continue
        module_name "$name"
        name=$REPLY
        if [[ -n ${MODULE_PATH[$name]:-} ]]; then
            visit_module "${MODULE_PATH[$name]}"
        elif [[ -n ${MODULE_IS_BUILTIN[$name]:-} ]]; then
            MODULES_BUILTIN+=("$name")
        else
            missing+=("$name")
        fi
    done < "$list_file"
    if [[ ${#missing[@]} -gt 0 ]]; then
        die "required modules neither built into $KERNEL_RELEASE nor shipped in $KERNEL_PACKAGE: ${missing[*]} (see $(basename "$list_file"))"
    fi
}

# visit_module PATH: depth-first, appends PATH after all of its dependencies.
visit_module() {
    local path=$1 dep
    [[ -n ${MODULE_VISITED[$path]:-} ]] && return 0
    MODULE_VISITED[$path]=1
    [[ -f $MODULES_DIR/$path ]] || die "modules.dep names $path, which is not in $KERNEL_PACKAGE"
    for dep in ${MODULE_DEPS[$path]}; do
        [[ -n ${MODULE_DEPS[$dep]+set} ]] || die "modules.dep: $path depends on $dep, which has no entry"
        visit_module "$dep"
    done
    MODULE_LOAD_ORDER+=("$path")
}

# install_modules DEST_ROOT LOAD_FILE: copies the load list into DEST_ROOT/lib/modules/<release>/,
# decompressed so that busybox insmod can load it, and writes the relative paths to LOAD_FILE.
install_modules() {
    local dest=$1/lib/modules/$KERNEL_RELEASE load_file=$2 path plain
    : > "$load_file"
    for path in "${MODULE_LOAD_ORDER[@]}"; do
        plain=${path%.ko*}.ko
        mkdir -p "$dest/$(dirname "$plain")"
        case $path in
            *.ko) cp "$MODULES_DIR/$path" "$dest/$plain" ;;
            *.ko.xz) xz -dc "$MODULES_DIR/$path" > "$dest/$plain" ;;
            *.ko.zst) zstd -q -dc "$MODULES_DIR/$path" > "$dest/$plain" ;;
            *.ko.gz) gzip -dc "$MODULES_DIR/$path" > "$dest/$plain" ;;
            *) die "unsupported module file $path" ;;
        esac
        echo "$plain" >> "$load_file"
    done
}

# module_names_json PATH_OR_NAME...: a JSON array of module names.
module_names_json() {
    local item out=''
    for item in "$@"; do
        module_name "$item"
        out+="${out:+, }\"$REPLY\""
    done
    echo "[$out]"
}
