/* tn_strerror: stable short names for every tn_err. */
#include "tocsin/err.h"

const char *tn_strerror(int err)
{
	switch (err) {
	case TN_OK: return "ok";
	case TN_ERR_NOBUF: return "nobuf";
	case TN_ERR_INVAL: return "inval";
	case TN_ERR_STATE: return "state";
	case TN_ERR_PROTO: return "proto";
	case TN_ERR_AUTH: return "auth";
	case TN_ERR_LIMIT: return "limit";
	case TN_ERR_AGAIN: return "again";
	case TN_ERR_NOTFOUND: return "notfound";
	case TN_ERR_EXISTS: return "exists";
	case TN_ERR_DEC_TRUNCATED: return "dec_truncated";
	case TN_ERR_DEC_TRAILING: return "dec_trailing";
	case TN_ERR_DEC_TYPE: return "dec_type";
	case TN_ERR_DEC_NONCANONICAL: return "dec_noncanonical";
	case TN_ERR_DEC_ARRAYLEN: return "dec_arraylen";
	case TN_ERR_DEC_TOOBIG: return "dec_toobig";
	case TN_ERR_DEC_RANGE: return "dec_range";
	case TN_ERR_DEC_UTF8: return "dec_utf8";
	case TN_ERR_DEC_KEYORDER: return "dec_keyorder";
	case TN_ERR_DEC_UNKNOWNKEY: return "dec_unknownkey";
	case TN_ERR_DEC_MISSINGKEY: return "dec_missingkey";
	case TN_ERR_DEC_VERSION: return "dec_version";
	case TN_ERR_DEC_RECTYPE: return "dec_rectype";
	case TN_ERR_DEC_BADLEN: return "dec_badlen";
	case TN_ERR_DEC_DEPTH: return "dec_depth";
	case TN_ERR_DEC_RESERVED: return "dec_reserved";
	case TN_ERR_DEC_IGNORABLE: return "dec_ignorable";
	case TN_ERR_DH: return "dh";
	case TN_ERR_NONCE: return "nonce";
	case TN_ERR_REPLAY: return "replay";
	case TN_ERR_STALE: return "stale";
	case TN_ERR_MISDIRECTED: return "misdirected";
	case TN_ERR_FRAME: return "frame";
	case TN_ERR_CLOSED: return "closed";
	case TN_ERR_PATTERN: return "pattern";
	case TN_ERR_TIMEOUT: return "timeout";
	case TN_ERR_PASSPHRASE: return "passphrase";
	case TN_ERR_CORRUPT: return "corrupt";
	case TN_ERR_NEEDPASS: return "needpass";
	case TN_ERR_KS_VERSION: return "ks_version";
	case TN_ERR_INSECURE: return "insecure";
	case TN_ERR_IO: return "io";
	case TN_ERR_BUSY: return "busy";
	case TN_ERR_FULL: return "full";
	case TN_ERR_INUSE: return "inuse";
	case TN_ERR_CONFIG: return "config";
	case TN_ERR_SCHEMA: return "schema";
	case TN_ERR_FATAL: return "fatal";
	case TN_ERR_NOMEM: return "nomem";
	case TN_ERR_INTERNAL: return "internal";
	}
	return "unknown";
}
