# Sourced by scripts/test.sh and scripts/demo.sh: install the Debian packages
# Tocsin needs, only those missing. Needs root (or sudo) on Debian 12.
TOCSIN_DEBS="gcc clang libclang-rt-14-dev meson ninja-build pkg-config python3
 libsodium-dev libuv1-dev libmsgpack-dev libsqlite3-dev libcmocka-dev
 libinih-dev libjansson-dev libqrencode-dev libsystemd-dev
 libminiupnpc-dev libnatpmp-dev
 iproute2 procps cppcheck dbus-daemon
 gettext locales desktop-file-utils mandoc bsdutils serf python3-msgpack"

tocsin_install_deps() {
	missing=""
	for p in $TOCSIN_DEBS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
			missing="$missing $p"
	done
	# Node and npm may come from a nodejs build that bundles npm (and then
	# conflicts with Debian's npm package): only install them when absent.
	command -v node >/dev/null 2>&1 || missing="$missing nodejs"
	command -v npm >/dev/null 2>&1 || missing="$missing npm"
	[ -z "$missing" ] && { tocsin_locales; return 0; }
	echo "installing:$missing"
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	export DEBIAN_FRONTEND=noninteractive
	$sudo_cmd apt-get update -qq
	# shellcheck disable=SC2086
	$sudo_cmd apt-get install -y -qq --no-install-recommends $missing >/dev/null
	tocsin_locales
}

# The Arabic locale the client's translation is tested in
# (tests/integration/test_client_i18n.sh): generated when missing.
tocsin_locales() {
	# grep without -q reads all: no SIGPIPE for locale under pipefail
	locale -a 2>/dev/null | grep -ix 'ar_IQ.utf8' >/dev/null && return 0
	sudo_cmd=""
	[ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
	echo "generating the ar_IQ.UTF-8 locale"
	$sudo_cmd localedef -i ar_IQ -f UTF-8 ar_IQ.UTF-8
}
