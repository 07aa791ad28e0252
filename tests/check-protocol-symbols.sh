#!/bin/sh
# The protocol library must do no I/O (DESIGN §2): no clock, socket, file,
# process or OS random device. Every symbol it leaves undefined must be on
# this allowlist: libsodium's primitives (but not randombytes_*), msgpack-c's
# packer, pure libc memory/string routines, and compiler/sanitizer runtime.
# Usage: check-protocol-symbols.sh path/to/libtocsinproto.a
set -eu
lib=$1
[ -f "$lib" ] || { echo "no such library: $lib" >&2; exit 1; }

allowed='^(crypto_[a-z0-9_]+|sodium_(memzero|memcmp|is_zero|malloc|free|allocarray|mprotect_[a-z]+|increment|add|compare|bin2hex|hex2bin|base64_encoded_len|bin2base64|base642bin|init|pad|unpad)|msgpack_[a-z0-9_]+|mem(cpy|move|set|cmp|chr)|bcmp|str(len|cmp|ncmp|chr|nlen)|(ntoh|hton)[sl]|malloc|calloc|realloc|free|abort|__assert_fail|__stack_chk_fail|__(asan|ubsan|sanitizer|lsan|msan|tsan)_[A-Za-z0-9_]+|__sancov[A-Za-z0-9_.]*|_GLOBAL_OFFSET_TABLE_|__memcpy_chk|__memset_chk|__memmove_chk|tn_[a-z0-9_]+)$'

syms=$(nm --format=posix "$lib" 2>/dev/null)
# Prove nm parsed the archive: a symbol we define must show up as defined.
printf '%s\n' "$syms" | awk '$1 == "tn_strerror" && $2 == "T" {f=1} END {exit !f}' ||
	{ echo "nm output of $lib not understood: cannot check" >&2; exit 1; }
undef=$(printf '%s\n' "$syms" | awk 'NF>=2 && ($2 == "U" || $2 == "w") {print $1}' | sort -u)

bad=$(printf '%s\n' "$undef" | grep -Ev "$allowed" || true)
if [ -n "$bad" ]; then
	echo "protocol library references symbols outside its allowlist (I/O?):" >&2
	printf '  %s\n' $bad >&2
	exit 1
fi
n=$(printf '%s\n' "$undef" | grep -c . || true)
echo "protocol library: $n external symbols, all pure (no clock, socket, file or RNG)"
