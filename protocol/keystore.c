/* The keystore format: the device's two secrets, sealed with Argon2id +
 * XChaCha20-Poly1305 and a BLAKE2b checksum. Layout and check order are
 * documented in tocsin/keystore.h. */
#include <string.h>

#include <sodium.h>

#include "identity_int.h"
#include "tocsin/keystore.h"

static const uint8_t MAGIC[8] = {'T', 'O', 'C', 'S', 'I', 'N', 'K', 'S'};

_Static_assert(TN_KS_OFF_VERSION == TN_KS_OFF_MAGIC + sizeof MAGIC, "layout");
_Static_assert(TN_KS_OFF_SALT + crypto_pwhash_SALTBYTES == TN_KS_OFF_NONCE, "layout");
_Static_assert(TN_KS_OFF_NONCE + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == TN_KS_OFF_CT,
	       "layout");
_Static_assert(TN_KS_CT_LEN == TN_KS_SECRET_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES,
	       "layout");
_Static_assert(TN_KS_OFF_CT + TN_KS_CT_LEN == TN_KS_OFF_SUM, "layout");
_Static_assert(sizeof(tn_identity_secret) == TN_KS_SECRET_LEN, "plaintext size");
_Static_assert(TN_KS_OPSLIMIT_MIN == crypto_pwhash_OPSLIMIT_MIN, "libsodium minimum");
_Static_assert(TN_KS_MEMLIMIT_KIB_MIN * 1024 == crypto_pwhash_MEMLIMIT_MIN, "libsodium minimum");

enum { KEY_LEN = crypto_aead_xchacha20poly1305_ietf_KEYBYTES };

void tn_kdf_params_default(tn_kdf_params *p)
{
	p->opslimit = crypto_pwhash_OPSLIMIT_MODERATE;
	p->memlimit_kib = (uint32_t)(crypto_pwhash_MEMLIMIT_MODERATE / 1024);
}

void tn_kdf_params_min(tn_kdf_params *p)
{
	p->opslimit = TN_KS_OPSLIMIT_MIN;
	p->memlimit_kib = TN_KS_MEMLIMIT_KIB_MIN;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool kdf_in_bounds(const tn_kdf_params *k)
{
	return k->opslimit >= TN_KS_OPSLIMIT_MIN && k->opslimit <= TN_KS_OPSLIMIT_MAX &&
	       k->memlimit_kib >= TN_KS_MEMLIMIT_KIB_MIN &&
	       k->memlimit_kib <= TN_KS_MEMLIMIT_KIB_MAX;
}

/* Argon2id13(pass, salt) -> key. Only called with bounded parameters. */
static tn_err derive_key(uint8_t key[KEY_LEN], const char *pass, size_t passlen,
			 const uint8_t salt[crypto_pwhash_SALTBYTES], const tn_kdf_params *k)
{
	if (crypto_pwhash(key, KEY_LEN, pass, passlen, salt, k->opslimit,
			  (size_t)k->memlimit_kib * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, KEY_LEN);
		/* The parameters are within bounds, so this is Argon2 failing to
		 * allocate its memory. */
		return TN_ERR_NOMEM;
	}
	return TN_OK;
}

static void put_sum(uint8_t *ks)
{
	crypto_generichash(ks + TN_KS_OFF_SUM, TN_KS_SUM_LEN, ks, TN_KS_OFF_SUM, NULL, 0);
}

static bool check_sum(const uint8_t *ks)
{
	uint8_t sum[TN_KS_SUM_LEN];
	crypto_generichash(sum, sizeof sum, ks, TN_KS_OFF_SUM, NULL, 0);
	return crypto_verify_32(sum, ks + TN_KS_OFF_SUM) == 0;
}

tn_ssize tn_keystore_seal(const tn_identity *id, const char *pass, size_t passlen,
			  const tn_kdf_params *kdf, const tn_rand *rand, uint8_t *out,
			  size_t outlen)
{
	uint8_t key[KEY_LEN] = {0};
	tn_ssize rc;

	if (!id || !rand || !rand->fn || !out)
		return TN_ERR_INVAL;
	if (outlen < TN_KEYSTORE_LEN)
		return TN_ERR_NOBUF;
	memset(out, 0, TN_KEYSTORE_LEN);

	tn_kdf_params k = {0, 0};
	if (pass) {
		if (passlen == 0 || passlen > TN_PASSPHRASE_MAX)
			return TN_ERR_INVAL;
		if (kdf)
			k = *kdf;
		else
			tn_kdf_params_default(&k);
		if (!kdf_in_bounds(&k))
			return TN_ERR_INVAL;
	}

	/* Header: the AEAD's associated data, so every field of it is
	 * authenticated by the key as well as by the checksum. */
	memcpy(out + TN_KS_OFF_MAGIC, MAGIC, sizeof MAGIC);
	out[TN_KS_OFF_VERSION] = TN_KEYSTORE_VERSION;
	out[TN_KS_OFF_FLAGS] = pass ? TN_KEYSTORE_FLAG_PASSPHRASE : 0;
	put_le32(out + TN_KS_OFF_OPSLIMIT, k.opslimit);
	put_le32(out + TN_KS_OFF_MEMLIMIT, k.memlimit_kib);
	if (pass)
		tn_rand_bytes(rand, out + TN_KS_OFF_SALT, crypto_pwhash_SALTBYTES);
	tn_rand_bytes(rand, out + TN_KS_OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);

	if (pass) {
		rc = derive_key(key, pass, passlen, out + TN_KS_OFF_SALT, &k);
		if (rc != TN_OK)
			goto out;
	}
	unsigned long long ctlen = 0;
	const tn_identity_secret *secret = tn_identity_secret_of(id);
	if (crypto_aead_xchacha20poly1305_ietf_encrypt(
		    out + TN_KS_OFF_CT, &ctlen, (const uint8_t *)secret, sizeof *secret, out,
		    TN_KS_HDR_LEN, NULL, out + TN_KS_OFF_NONCE, key) != 0 ||
	    ctlen != TN_KS_CT_LEN) {
		rc = TN_ERR_INTERNAL;
		goto out;
	}
	put_sum(out);
	rc = TN_KEYSTORE_LEN;
out:
	sodium_memzero(key, sizeof key);
	if (rc < 0)
		sodium_memzero(out, TN_KEYSTORE_LEN);
	return rc;
}

/* Everything that can be checked without a key, in the documented order.
 * On TN_OK, *k holds the file's KDF parameters and *protected_ whether it
 * has a passphrase. */
static tn_err check_header(const uint8_t *in, size_t len, tn_kdf_params *k, bool *protected_)
{
	if (len != TN_KEYSTORE_LEN)
		return TN_ERR_CORRUPT;
	if (sodium_memcmp(in + TN_KS_OFF_MAGIC, MAGIC, sizeof MAGIC) != 0)
		return TN_ERR_CORRUPT;
	if (in[TN_KS_OFF_VERSION] != TN_KEYSTORE_VERSION)
		return TN_ERR_KS_VERSION;
	if (!check_sum(in))
		return TN_ERR_CORRUPT;

	uint8_t flags = in[TN_KS_OFF_FLAGS];
	if (flags & ~TN_KEYSTORE_FLAG_PASSPHRASE)
		return TN_ERR_CORRUPT;
	k->opslimit = get_le32(in + TN_KS_OFF_OPSLIMIT);
	k->memlimit_kib = get_le32(in + TN_KS_OFF_MEMLIMIT);
	*protected_ = (flags & TN_KEYSTORE_FLAG_PASSPHRASE) != 0;
	if (*protected_) {
		if (!kdf_in_bounds(k))
			return TN_ERR_CORRUPT;
	} else {
		/* One encoding per meaning: unused fields must be zero. */
		if (k->opslimit != 0 || k->memlimit_kib != 0 ||
		    !sodium_is_zero(in + TN_KS_OFF_SALT, crypto_pwhash_SALTBYTES))
			return TN_ERR_CORRUPT;
	}
	return TN_OK;
}

tn_err tn_keystore_open(tn_identity **out, const uint8_t *in, size_t len, const char *pass,
			size_t passlen)
{
	uint8_t key[KEY_LEN] = {0};
	tn_identity *id = NULL;
	tn_identity_secret *secret = NULL;
	tn_kdf_params k;
	bool protected_ = false;
	tn_err rc;

	if (!out)
		return TN_ERR_INVAL;
	*out = NULL;
	if (!in)
		return TN_ERR_INVAL;
	if (pass && passlen > TN_PASSPHRASE_MAX)
		return TN_ERR_INVAL;
	if (!pass)
		passlen = 0;

	rc = check_header(in, len, &k, &protected_);
	if (rc != TN_OK)
		goto out;
	if (protected_) {
		if (passlen == 0) {
			rc = TN_ERR_NEEDPASS;
			goto out;
		}
		rc = derive_key(key, pass, passlen, in + TN_KS_OFF_SALT, &k);
		if (rc != TN_OK)
			goto out;
	}

	/* Decrypt straight into the identity's guarded memory. */
	rc = tn_identity_alloc(&id, &secret);
	if (rc != TN_OK)
		goto out;
	unsigned long long ptlen = 0;
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((uint8_t *)secret, &ptlen, NULL,
						       in + TN_KS_OFF_CT, TN_KS_CT_LEN, in,
						       TN_KS_HDR_LEN, in + TN_KS_OFF_NONCE,
						       key) != 0 ||
	    ptlen != TN_KS_SECRET_LEN) {
		rc = protected_ ? TN_ERR_PASSPHRASE : TN_ERR_CORRUPT;
		goto out;
	}
	rc = tn_identity_seal(id);
	if (rc != TN_OK)
		goto out;
	*out = id;
	id = NULL;
out:
	sodium_memzero(key, sizeof key);
	tn_identity_del(id);
	return rc;
}
