/* Vaults: creation, the config, credentials files and security PINs. */
#include "obagent/vault.h"
#include "obagent/sys/azure.h"
#include "vault/vault_internal.h"
#include "vault/credentials.h"
#include "vault/snapshot.h"
#include "util/env.h"
#include "util/error.h"
#include "platform/platform.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ob_vault {
	ob_vault_conn conn;
	uint8_t owner_private[OB_SIGN_PRIVATE_BYTES];
	int access_days;        /* Azure: validity of the access tokens handed to agents */
};

static int name_valid(const char *name)
{
	size_t len = name ? strlen(name) : 0, i;

	if (len < 1 || len > 50 || !isalpha((unsigned char)name[0]))
		return 0;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-')
			return 0;
	return 1;
}

void ob_vault_conn_dispose(ob_vault_conn *c)
{
	if (c->be)
		c->be->free(c->be);
	free(c->location);
	free(c->display);
	free(c->id);
	free(c->name);
	memset(c, 0, sizeof(*c));
}

int ob_vault_read(char **out, size_t *out_len, ob_vault_conn *c, const char *name)
{
	void *data;
	size_t len;
	char *text;
	int error;

	*out = NULL;
	if ((error = c->be->get(&data, &len, c->be, name, 0, 0)) < 0)
		return error;
	/* Keep records NUL-terminated for the parsers. */
	text = realloc(data, len + 1);
	if (!text) {
		free(data);
		return ob_err_nomem();
	}
	text[len] = '\0';
	*out = text;
	*out_len = len;
	return 0;
}

/* ---- Azure locations and the access to them ---- */

#define AZURE_PREFIX "azure:"

typedef struct access_entry {
	char *location;
	char *access;
	struct access_entry *next;
} access_entry;

static pthread_mutex_t access_lock = PTHREAD_MUTEX_INITIALIZER;
static access_entry *accesses;

int ob_vault_location_is_azure(const char *location)
{
	return location && strncmp(location, AZURE_PREFIX, strlen(AZURE_PREFIX)) == 0;
}

int ob_vault_azure_location(char **out, const char *endpoint, const char *account, const char *container)
{
	ob_buf b = OB_BUF_INIT;
	char *ep = NULL;
	int error;

	*out = NULL;
	if (!account || !*account || !container || !*container)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An Azure vault needs a storage account name and a container name.");
	if (!endpoint || !*endpoint) {
		if ((error = ob_buf_printf(&b, "https://%s.blob.core.windows.net", account)) < 0)
			return error;
		ep = ob_buf_detach(&b);
		endpoint = ep;
	}
	if (strchr(endpoint, '|') || strchr(account, '|') || strchr(container, '|'))
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The endpoint, account and container may not contain '|'.");
	else if ((error = ob_buf_printf(&b, AZURE_PREFIX "%s|%s|%s", endpoint, account, container)) == 0)
		*out = ob_buf_detach(&b);
	free(ep);
	ob_buf_dispose(&b);
	return error;
}

int ob_vault_access_set(const char *location, const char *access)
{
	access_entry *e, **pe;
	char *copy = NULL;

	if (access && !(copy = ob_strdup(access)))
		return OB_ENOMEM;
	pthread_mutex_lock(&access_lock);
	for (pe = &accesses; (e = *pe) != NULL; pe = &e->next)
		if (strcmp(e->location, location) == 0)
			break;
	if (e) {
		ob_wipe(e->access, strlen(e->access));
		free(e->access);
		if (copy) {
			e->access = copy;
		} else {
			*pe = e->next;
			free(e->location);
			free(e);
		}
	} else if (copy) {
		if (!(e = calloc(1, sizeof(*e))) || !(e->location = strdup(location))) {
			free(e);
			ob_wipe(copy, strlen(copy));
			free(copy);
			pthread_mutex_unlock(&access_lock);
			return ob_err_nomem();
		}
		e->access = copy;
		e->next = accesses;
		accesses = e;
	}
	pthread_mutex_unlock(&access_lock);
	return 0;
}

char *ob_vault_access_get(const char *location)
{
	access_entry *e;
	char *copy = NULL;

	pthread_mutex_lock(&access_lock);
	for (e = accesses; e; e = e->next)
		if (strcmp(e->location, location) == 0) {
			copy = strdup(e->access);
			break;
		}
	pthread_mutex_unlock(&access_lock);
	return copy;
}

/* The proxy an agent's settings name for a location (Set-OBMachineSetting -ProxyServer). */
typedef struct proxy_entry {
	char *location;
	char *host;
	unsigned int port;
	char *user;
	uint8_t *password;
	size_t password_len;
	struct proxy_entry *next;
} proxy_entry;

static proxy_entry *proxies;

static void proxy_entry_free(proxy_entry *e)
{
	if (!e)
		return;
	if (e->password) {
		ob_wipe(e->password, e->password_len);
		free(e->password);
	}
	free(e->location);
	free(e->host);
	free(e->user);
	free(e);
}

int ob_vault_proxy_set(const char *location, const char *host, unsigned int port, const char *user,
	const uint8_t *password, size_t password_len)
{
	proxy_entry *e = NULL, *old, **pe;

	if (host && *host) {
		if (!(e = calloc(1, sizeof(*e))) || !(e->location = strdup(location)) || !(e->host = strdup(host)) ||
		    (user && *user && !(e->user = strdup(user))) ||
		    (password && password_len && !(e->password = malloc(password_len)))) {
			proxy_entry_free(e);
			return ob_err_nomem();
		}
		e->port = port;
		if (e->password) {
			memcpy(e->password, password, password_len);
			e->password_len = password_len;
		}
	}
	pthread_mutex_lock(&access_lock);
	for (pe = &proxies; (old = *pe) != NULL; pe = &old->next)
		if (strcmp(old->location, location) == 0) {
			*pe = old->next;
			break;
		}
	if (e) {
		e->next = proxies;
		proxies = e;
	}
	pthread_mutex_unlock(&access_lock);
	proxy_entry_free(old);
	return 0;
}

/* A copy of the proxy entry for a location, or NULL: free it with proxy_entry_free. */
static proxy_entry *proxy_get(const char *location)
{
	proxy_entry *e, *copy = NULL;

	pthread_mutex_lock(&access_lock);
	for (e = proxies; e; e = e->next)
		if (strcmp(e->location, location) == 0)
			break;
	if (e && (copy = calloc(1, sizeof(*copy))) != NULL) {
		copy->port = e->port;
		if (!(copy->location = strdup(e->location)) || !(copy->host = strdup(e->host)) ||
		    (e->user && !(copy->user = strdup(e->user))) ||
		    (e->password && !(copy->password = malloc(e->password_len)))) {
			proxy_entry_free(copy);
			copy = NULL;
		} else if (e->password) {
			memcpy(copy->password, e->password, e->password_len);
			copy->password_len = e->password_len;
		}
	}
	pthread_mutex_unlock(&access_lock);
	return copy;
}

static int open_azure(ob_vault_conn *c, const char *location)
{
	ob_azure_options o = OB_AZURE_OPTIONS_INIT;
	char *spec = ob_strdup(location + strlen(AZURE_PREFIX)), *access = ob_vault_access_get(location), *account, *container;
	ob_buf disp = OB_BUF_INIT;
	proxy_entry *proxy;
	int error;

	if (!spec)
		return OB_ENOMEM;
	account = strchr(spec, '|');
	container = account ? strchr(account + 1, '|') : NULL;
	if (!account || !container) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT, "'%s' is not an Azure vault location.", location);
		goto done;
	}
	*account++ = '\0';
	*container++ = '\0';
	if (!access) {
		error = ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
			"No access to the Azure vault in container '%s' is known to this process. Register this server again with a "
			"current vault credentials file (Start-OBRegistration).", container);
		goto done;
	}
	o.endpoint = *spec ? spec : NULL;
	o.account = account;
	o.container = container;
	if (strncmp(access, "key:", 4) == 0)
		o.account_key = access + 4;
	else if (strncmp(access, "sas:", 4) == 0)
		o.sas = access + 4;
	if ((proxy = proxy_get(location)) != NULL) {
		o.proxy_host = proxy->host;
		o.proxy_port = proxy->port;
		o.proxy_user = proxy->user;
		o.proxy_password = (const char *)proxy->password;
		o.proxy_password_len = proxy->password_len;
	}
	error = ob_backend_azure_new(&c->be, &o);
	proxy_entry_free(proxy);
	if (error < 0)
		goto done;
	c->azure = 1;
	if ((error = ob_buf_printf(&disp, "%s/%s", *spec ? spec : "(default endpoint)", container)) < 0 ||
	    !(c->location = ob_strdup(location))) {
		error = error < 0 ? error : OB_ENOMEM;
		goto done;
	}
	c->display = ob_buf_detach(&disp);
done:
	ob_buf_dispose(&disp);
	if (access) {
		ob_wipe(access, strlen(access));
		free(access);
	}
	free(spec);
	return error;
}

int ob_vault_conn_open(ob_vault_conn *c, const char *location)
{
	char *text = NULL;
	size_t len = 0;
	ob_kv kv = { 0 };
	uint8_t *pub = NULL;
	size_t pub_len;
	int64_t format, created;
	int error;

	memset(c, 0, sizeof(*c));
	if (ob_vault_location_is_azure(location)) {
		if ((error = open_azure(c, location)) < 0)
			goto fail;
		location = c->display;
	} else {
		if ((error = ob_backend_local_new(&c->be, location)) < 0) {
			if (error == OB_ENOTFOUND)
				error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "There is no vault at '%s'.", location);
			goto fail;
		}
		if ((error = ob_platform_realpath(&c->location, location)) < 0 || !(c->display = ob_strdup(c->location))) {
			error = error < 0 ? error : OB_ENOMEM;
			goto fail;
		}
	}
	if ((error = ob_vault_read(&text, &len, c, OB_OBJ_CONFIG)) < 0) {
		if (error == OB_ENOTFOUND)
			error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT,
				"There is no vault at '%s' (no vault config). Check the path, or create one with New-OBVault.", location);
		goto fail;
	}
	if ((error = ob_kv_parse(&kv, text, len)) < 0 || strcmp(kv.kind, "vault") != 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault config at '%s' is damaged.", location);
		goto fail;
	}
	if ((error = ob_kv_get_i64(&format, &kv, "format")) < 0 ||
	    (error = ob_kv_get_i64(&created, &kv, "created")) < 0 ||
	    (error = ob_kv_get_b64(&pub, &pub_len, &kv, "owner_public_key", OB_SIGN_PUBLIC_BYTES)) < 0 ||
	    !ob_kv_get(&kv, "id") || !ob_kv_get(&kv, "name")) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault config at '%s' is damaged.", location);
		goto fail;
	}
	if (format != OB_VAULT_FORMAT) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_VAULT,
			"The vault at '%s' has format %lld; this obagent reads format %d. Update obagent.",
			location, (long long)format, OB_VAULT_FORMAT);
		goto fail;
	}
	memcpy(c->owner_public, pub, OB_SIGN_PUBLIC_BYTES);
	if ((error = ob_record_verify(c->owner_public, text, len)) < 0) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault config at '%s' fails its signature check.", location);
		goto fail;
	}
	c->format = (int)format;
	c->created = created;
	if (!(c->id = ob_strdup(ob_kv_get(&kv, "id"))) || !(c->name = ob_strdup(ob_kv_get(&kv, "name")))) {
		error = OB_ENOMEM;
		goto fail;
	}
	error = 0;
	goto done;
fail:
	ob_vault_conn_dispose(c);
done:
	free(pub);
	free(text);
	ob_kv_dispose(&kv);
	return error;
}

typedef struct {
	ob_name_list *l;
	size_t strip;
} name_scan;

static int name_cb(const char *name, uint64_t size, void *payload)
{
	name_scan *s = payload;
	ob_name_list *l = s->l;

	(void)size;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		char **v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return ob_err_nomem();
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n] = strdup(name + s->strip)))
		return ob_err_nomem();
	l->n++;
	return 0;
}

int ob_vault_list_names(ob_name_list *out, ob_backend *be, const char *prefix, size_t strip)
{
	name_scan s = { out, strip };
	int error;

	memset(out, 0, sizeof(*out));
	if ((error = be->list(be, prefix, name_cb, &s)) < 0)
		ob_name_list_dispose(out);
	return error;
}

void ob_name_list_dispose(ob_name_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

typedef struct {
	const char *prefix;
	int64_t max;
} seq_scan;

static int seq_cb(const char *name, uint64_t size, void *payload)
{
	seq_scan *s = payload;
	const char *rest = name + strlen(s->prefix);
	int64_t v;

	(void)size;
	if (strlen(rest) == 10 && ob_parse_i64(&v, rest) == 0 && v > s->max)
		s->max = v;
	return 0;
}

int ob_vault_latest_seq(int64_t *out, ob_vault_conn *c, const char *prefix)
{
	seq_scan s = { prefix, 0 };
	int error = c->be->list(c->be, prefix, seq_cb, &s);

	if (error < 0)
		return error;
	*out = s.max;
	return 0;
}

int ob_vault_read_signed(ob_kv *kv, ob_vault_conn *c, const char *name, const char *kind)
{
	char *text;
	size_t len = 0;
	int error;

	memset(kv, 0, sizeof(*kv));
	if ((error = ob_vault_read(&text, &len, c, name)) < 0)
		return error;
	if ((error = ob_record_verify(c->owner_public, text, len)) < 0) {
		error = ob_err(error == OB_EAUTH ? OB_EAUTH : OB_ECORRUPT, OB_ERRCLASS_VAULT,
			"Vault object '%s' fails its signature check: it was changed or damaged.", name);
		goto done;
	}
	if ((error = ob_kv_parse(kv, text, len)) < 0 || strcmp(kv->kind, kind) != 0) {
		ob_kv_dispose(kv);
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Vault object '%s' is not a valid %s record.", name, kind);
	}
done:
	free(text);
	return error;
}

void ob_vault_server_id(char out[33], const char *server_name)
{
	ob_buf b = OB_BUF_INIT;
	uint8_t digest[32];
	const char *p;

	ob_buf_puts(&b, "obagent-server:");
	for (p = server_name; *p; p++) {
		char ch = (char)tolower((unsigned char)*p);
		ob_buf_put(&b, &ch, 1);
	}
	ob_sha256(digest, b.data, b.len);
	ob_buf_dispose(&b);
	ob_hex_encode(out, digest, 16);
}

/* ---- PINs ---- */

typedef struct {
	ob_vault_conn *c;
	const char *pin;
	int64_t now;
	int result;   /* 0 match current, OB_EEXPIRED match expired, OB_EAUTH none */
	char matched[128];   /* the current record's name, when result is 0 */
} pin_scan;

static int pin_cb(const char *name, uint64_t size, void *payload)
{
	pin_scan *s = payload;
	ob_kv kv;
	int64_t issued, expires;
	uint8_t *salt = NULL, *hash = NULL, computed[32];
	size_t salt_len, hash_len;
	const char *base = name + strlen(OB_PREFIX_PINS);

	(void)size;
	/*
	 * Names are <issued %012lld>-<random>: skip, unread, those older than a day, and the uses of
	 * PINs (<name>.used, written by agents: they never authorise anything).
	 */
	if (strlen(base) < 13 || base[12] != '-' || strchr(base, '.') || strlen(name) >= sizeof(s->matched))
		return 0;
	{
		char num[13];
		memcpy(num, base, 12);
		num[12] = '\0';
		if (ob_parse_i64(&issued, num) < 0 || issued < s->now - 86400)
			return 0;
	}
	if (ob_vault_read_signed(&kv, s->c, name, "pin") < 0)
		return 0;  /* a damaged or forged record authorises nothing */
	if (ob_kv_get_i64(&expires, &kv, "expires") == 0 &&
	    ob_kv_get_b64(&salt, &salt_len, &kv, "salt", 0) == 0 &&
	    ob_kv_get_b64(&hash, &hash_len, &kv, "hash", 32) == 0 &&
	    ob_kdf_scrypt(computed, sizeof(computed), (const uint8_t *)s->pin, strlen(s->pin), salt, salt_len,
		&OB_KDF_PIN) == 0 &&
	    ob_ct_compare(computed, hash, 32) == 0) {
		if (s->now <= expires) {
			s->result = 0;
			snprintf(s->matched, sizeof(s->matched), "%s", name);
		} else if (s->result != 0)
			s->result = OB_EEXPIRED;
	}
	free(salt);
	free(hash);
	ob_kv_dispose(&kv);
	return s->result == 0 ? 1 : 0;
}

/*
 * Spend the PIN of record name: create-only, so of two uses at once (two servers, two sessions)
 * exactly one creates it, and only that one acts. A use recorded by anyone, even forged, spends it.
 */
static int pin_spend(ob_vault_conn *c, const char *name, const char *server_name, int64_t now)
{
	ob_buf rec = OB_BUF_INIT, used = OB_BUF_INIT;
	int error;

	if ((error = ob_buf_printf(&used, "%s" OB_PIN_USED_SUFFIX, name)) < 0 ||
	    (error = ob_kv_begin(&rec, "pin-use", 1)) < 0 ||
	    (error = ob_kv_add(&rec, "server", server_name)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "at", now)) < 0)
		goto done;
	error = c->be->put(c->be, used.data, rec.data, rec.len);
	if (error == OB_EEXISTS)
		error = ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
			"The security PIN was already used: get a new one from the vault owner (New-OBSecurityPin).");
done:
	ob_buf_dispose(&rec);
	ob_buf_dispose(&used);
	return error;
}

int ob_vault_pin_check(ob_vault_conn *c, const char *pin, const char *server_name, int64_t now)
{
	pin_scan s = { c, pin, now, OB_EAUTH, "" };
	int error;
	size_t i, len = pin ? strlen(pin) : 0;

	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)pin[i]))
			break;
	if (len != 8 || i != len)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
			"The security PIN is not valid: a PIN is 8 digits. Get a new one from the vault owner (New-OBSecurityPin).");
	error = c->be->list(c->be, OB_PREFIX_PINS, pin_cb, &s);
	if (error < 0)
		return error;
	if (s.result == OB_EEXPIRED)
		return ob_err(OB_EEXPIRED, OB_ERRCLASS_VAULT,
			"The security PIN has expired (a PIN is valid for 5 minutes). Get a new one from the vault owner (New-OBSecurityPin).");
	if (s.result == OB_EAUTH)
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
			"The security PIN is incorrect. Get a new one from the vault owner (New-OBSecurityPin).");
	return pin_spend(c, s.matched, server_name, now);
}

/* ---- the owner's side ---- */

/*
 * On Azure the owner's key sits in the container, which agents can read with
 * their access token: it is sealed there with a key only the account key gives.
 */
static int owner_sealing_key(uint8_t key[32], const char *location)
{
	char *access = ob_vault_access_get(location);
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	ob_buf b = OB_BUF_INIT;
	int error = 0;

	if (!access || strncmp(access, "key:", 4) != 0 || ob_base64_decode(&raw, &raw_len, access + 4) < 0)
		error = ob_err(OB_EACCESS, OB_ERRCLASS_VAULT,
			"Only the vault's owner, with the storage account key, can do this (an access token is not enough).");
	else if ((error = ob_buf_puts(&b, "obagent-owner-key-v1:")) == 0 && (error = ob_buf_put(&b, raw, raw_len)) == 0)
		ob_sha256(key, b.data, b.len);
	if (access) {
		ob_wipe(access, strlen(access));
		free(access);
	}
	if (raw) {
		ob_wipe(raw, raw_len);
		free(raw);
	}
	ob_buf_dispose(&b);
	return error;
}

int ob_vault_conn_owner_key(uint8_t owner_private[OB_SIGN_PRIVATE_BYTES], ob_vault_conn *c)
{
	char *text = NULL;
	size_t len;
	ob_kv kv;
	uint8_t *priv = NULL, check[OB_SIGN_BYTES];
	size_t priv_len = 0;
	int error;

	if ((error = ob_vault_read(&text, &len, c, OB_OBJ_OWNER_KEY)) < 0)
		return error == OB_ENOTFOUND ? ob_err(OB_EACCESS, OB_ERRCLASS_VAULT,
			"The vault owner's key is not in '%s': only the vault's owner can do this.", c->display) : error;
	error = ob_kv_parse(&kv, text, len);
	ob_wipe(text, len);
	free(text);
	if (error < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault owner's key is damaged.");
	if (kv.version == 2) {
		/* Sealed (Azure): nonce and ciphertext under the account key's sealing key. */
		uint8_t key[32], *nonce = NULL, *sealed = NULL;
		size_t nonce_len, sealed_len;
		if ((error = owner_sealing_key(key, c->location)) == 0 &&
		    (error = ob_kv_get_b64(&nonce, &nonce_len, &kv, "nonce", OB_AEAD_NONCE_BYTES)) == 0 &&
		    (error = ob_kv_get_b64(&sealed, &sealed_len, &kv, "sealed_key", OB_SIGN_PRIVATE_BYTES + OB_AEAD_TAG_BYTES)) == 0) {
			if (ob_aead_open(owner_private, key, nonce, "obagent-owner-key", 17, sealed, sealed_len) < 0)
				error = ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
					"The storage account key does not open the vault owner's key: it is not this vault's account key.");
		}
		ob_wipe(key, sizeof(key));
		free(nonce);
		free(sealed);
		ob_kv_dispose(&kv);
		if (error < 0)
			return error;
	} else {
		error = ob_kv_get_b64(&priv, &priv_len, &kv, "private_key", OB_SIGN_PRIVATE_BYTES);
		ob_kv_dispose(&kv);
		if (error < 0)
			return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault owner's key is damaged.");
		memcpy(owner_private, priv, OB_SIGN_PRIVATE_BYTES);
		ob_wipe(priv, priv_len);
		free(priv);
	}
	/* The key must match the public key the config names. */
	if ((error = ob_sign(check, owner_private, "check", 5)) < 0)
		return error;
	if (ob_verify(c->owner_public, "check", 5, check) < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "The vault owner's key does not match the vault config.");
	return 0;
}

static int load_owner_key(ob_vault *v)
{
	return ob_vault_conn_owner_key(v->owner_private, &v->conn);
}

int ob_vault_open(ob_vault **out, const char *path)
{
	ob_vault *v;
	int error;

	*out = NULL;
	if (!path || !*path)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A vault path is required.");
	if (!(v = calloc(1, sizeof(*v))))
		return ob_err_nomem();
	if ((error = ob_vault_conn_open(&v->conn, path)) < 0 || (error = load_owner_key(v)) < 0) {
		ob_vault_free(v);
		return error;
	}
	*out = v;
	return 0;
}

/* Write a new vault's owner key and config into an empty back end: the key first, the config last. */
static int write_new_vault(ob_backend *be, const char *name, const char *storage, const char *location, int64_t now)
{
	uint8_t priv[OB_SIGN_PRIVATE_BYTES], pub[OB_SIGN_PUBLIC_BYTES];
	char uuid[37], *priv64 = NULL, *pub64 = NULL;
	ob_buf keyrec = OB_BUF_INIT, config = OB_BUF_INIT;
	int error;

	if ((error = ob_sign_keygen(priv, pub)) < 0 || (error = ob_guid_new(uuid)) < 0)
		goto done;
	if (!(pub64 = ob_base64_encode(pub, sizeof(pub)))) {
		error = OB_ENOMEM;
		goto done;
	}
	if (!ob_vault_location_is_azure(location)) {
		/* A local vault's folder is the owner's domain: the key sits in it, owner-only. */
		if (!(priv64 = ob_base64_encode(priv, sizeof(priv)))) {
			error = OB_ENOMEM;
			goto done;
		}
		if ((error = ob_kv_begin(&keyrec, "owner-key", 1)) < 0 || (error = ob_kv_add(&keyrec, "private_key", priv64)) < 0)
			goto done;
	} else {
		uint8_t key[32], nonce[OB_AEAD_NONCE_BYTES], sealed[OB_SIGN_PRIVATE_BYTES + OB_AEAD_TAG_BYTES];
		char *n64 = NULL, *s64 = NULL;
		if ((error = owner_sealing_key(key, location)) == 0 && (error = ob_random(nonce, sizeof(nonce))) == 0 &&
		    (error = ob_aead_seal(sealed, key, nonce, "obagent-owner-key", 17, priv, sizeof(priv))) == 0) {
			n64 = ob_base64_encode(nonce, sizeof(nonce));
			s64 = ob_base64_encode(sealed, sizeof(sealed));
			if (!n64 || !s64)
				error = OB_ENOMEM;
			else if ((error = ob_kv_begin(&keyrec, "owner-key", 2)) == 0 && (error = ob_kv_add(&keyrec, "nonce", n64)) == 0)
				error = ob_kv_add(&keyrec, "sealed_key", s64);
		}
		ob_wipe(key, sizeof(key));
		free(n64);
		free(s64);
		if (error < 0)
			goto done;
	}
	if ((error = be->put(be, OB_OBJ_OWNER_KEY, keyrec.data, keyrec.len)) < 0)
		goto done;
	if ((error = ob_kv_begin(&config, "vault", 1)) < 0 ||
	    (error = ob_kv_add_i64(&config, "format", OB_VAULT_FORMAT)) < 0 ||
	    (error = ob_kv_add(&config, "id", uuid)) < 0 ||
	    (error = ob_kv_add(&config, "name", name)) < 0 ||
	    (error = ob_kv_add(&config, "storage", storage)) < 0 ||
	    (error = ob_kv_add_i64(&config, "created", now)) < 0 ||
	    (error = ob_kv_add(&config, "owner_public_key", pub64)) < 0 ||
	    (error = ob_record_sign(&config, priv)) < 0 ||
	    (error = be->put(be, OB_OBJ_CONFIG, config.data, config.len)) < 0)
		goto done;
done:
	ob_wipe(priv, sizeof(priv));
	if (priv64) {
		ob_wipe(priv64, strlen(priv64));
		free(priv64);
	}
	free(pub64);
	ob_buf_dispose(&keyrec);
	ob_buf_dispose(&config);
	return error;
}

static int check_name_arg(const char *name)
{
	if (!name_valid(name))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"'%s' is not a valid vault name: use 1 to 50 letters, digits and hyphens, starting with a letter.",
			name ? name : "");
	return 0;
}

int ob_vault_create(ob_vault **out, const char *path, const char *name)
{
	ob_backend *be = NULL;
	int64_t now;
	int error, empty;

	*out = NULL;
	if (!path || !*path)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A vault path is required.");
	if ((error = check_name_arg(name)) < 0 || (error = ob_clock_now(&now)) < 0)
		return error;
	empty = ob_platform_dir_is_empty(path);
	if (empty == OB_ENOTFOUND) {
		if ((error = ob_platform_mkdir_p(path, 0700)) < 0)
			return error;
	} else if (empty < 0) {
		return empty;
	} else if (!empty) {
		char *cfg = ob_platform_join(path, OB_OBJ_CONFIG);
		int is_vault = cfg && ob_platform_exists(cfg);
		free(cfg);
		if (is_vault)
			return ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "There is a vault at '%s' already. Use Get-OBVault to see it.", path);
		return ob_err(OB_EINVALID, OB_ERRCLASS_VAULT,
			"The folder '%s' is not empty and is not a vault. Give an empty or new folder.", path);
	}
	if ((error = ob_backend_local_new(&be, path)) < 0)
		return error;
	error = write_new_vault(be, name, "local", path, now);
	be->free(be);
	return error < 0 ? error : ob_vault_open(out, path);
}

static int azure_access(char **out_location, const ob_vault_azure_options *opts)
{
	ob_buf access = OB_BUF_INIT;
	int error;

	*out_location = NULL;
	if (!opts || opts->version != OB_VAULT_AZURE_OPTIONS_VERSION || !opts->account_key || !*opts->account_key)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An Azure vault needs its storage account name, key and container.");
	if ((error = ob_vault_azure_location(out_location, opts->endpoint, opts->account, opts->container)) < 0)
		return error;
	if ((error = ob_buf_printf(&access, "key:%s", opts->account_key)) == 0)
		error = ob_vault_access_set(*out_location, access.data);
	ob_buf_dispose(&access);
	return error;
}

int ob_vault_create_azure(ob_vault **out, const char *name, const ob_vault_azure_options *opts)
{
	ob_azure_options o = OB_AZURE_OPTIONS_INIT;
	ob_backend *be = NULL;
	char *location = NULL;
	ob_name_list l = { 0 };
	int64_t now;
	int error;

	*out = NULL;
	if ((error = check_name_arg(name)) < 0 || (error = ob_clock_now(&now)) < 0 ||
	    (error = azure_access(&location, opts)) < 0)
		goto done;
	o.endpoint = opts->endpoint;
	o.account = opts->account;
	o.container = opts->container;
	o.account_key = opts->account_key;
	o.ca_file = opts->ca_file;
	if ((error = ob_azure_container_create(&o)) < 0 || (error = ob_backend_azure_new(&be, &o)) < 0)
		goto done;
	if ((error = ob_vault_list_names(&l, be, "", 0)) < 0)
		goto done;
	if (l.n) {
		size_t i;
		int is_vault = 0;
		for (i = 0; i < l.n; i++)
			is_vault |= strcmp(l.v[i], OB_OBJ_CONFIG) == 0;
		error = is_vault ? ob_err(OB_EEXISTS, OB_ERRCLASS_VAULT, "Container '%s' holds a vault already.", opts->container)
				 : ob_err(OB_EINVALID, OB_ERRCLASS_VAULT,
					"Container '%s' is not empty and is not a vault. Give a new or empty container.", opts->container);
		goto done;
	}
	if ((error = write_new_vault(be, name, "azure", location, now)) < 0)
		goto done;
	error = ob_vault_open_azure(out, opts);
done:
	ob_name_list_dispose(&l);
	if (be)
		be->free(be);
	free(location);
	return error;
}

int ob_vault_open_azure(ob_vault **out, const ob_vault_azure_options *opts)
{
	char *location = NULL;
	int error;

	*out = NULL;
	if (opts && opts->version == OB_VAULT_AZURE_OPTIONS_VERSION && (opts->access_days < 0 || opts->access_days > 3650))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Access tokens may be valid 1 to 3650 days; %d was given.",
			opts->access_days);
	if ((error = azure_access(&location, opts)) == 0)
		error = ob_vault_open(out, location);
	if (error == 0)
		(*out)->access_days = opts->access_days ? opts->access_days : 365;
	free(location);
	return error;
}

void ob_vault_free(ob_vault *vault)
{
	if (!vault)
		return;
	ob_vault_conn_dispose(&vault->conn);
	ob_wipe(vault->owner_private, sizeof(vault->owner_private));
	free(vault);
}

const char *ob_vault_name(const ob_vault *vault) { return vault->conn.name; }
const char *ob_vault_id(const ob_vault *vault) { return vault->conn.id; }
const char *ob_vault_location(const ob_vault *vault) { return vault->conn.display; }
const char *ob_vault_storage_type(const ob_vault *vault) { return vault->conn.azure ? "AzureBlob" : "Local"; }
int64_t ob_vault_created(const ob_vault *vault) { return vault->conn.created; }
int ob_vault_format_version(const ob_vault *vault) { return vault->conn.format; }

typedef struct {
	size_t count;
} server_scan;

static int server_cb(const char *name, uint64_t size, void *payload)
{
	server_scan *s = payload;
	size_t plen = strlen(OB_PREFIX_SERVERS);

	(void)size;
	/* servers/<id>/server */
	if (strlen(name) == plen + 32 + 7 && strcmp(name + plen + 32, "/server") == 0)
		s->count++;
	return 0;
}

int ob_vault_server_count(size_t *out, ob_vault *vault)
{
	server_scan s = { 0 };
	int error = vault->conn.be->list(vault->conn.be, OB_PREFIX_SERVERS, server_cb, &s);

	if (error < 0)
		return error;
	*out = s.count;
	return 0;
}

int ob_vault_credentials_issue(char **out_path, ob_vault *vault, const char *output_dir, int validity_days)
{
	ob_credentials cred = { 0 };
	char *sas = NULL;
	int azure_fields = 0;
	ob_buf canon = OB_BUF_INIT, xml = OB_BUF_INIT, rec = OB_BUF_INIT, fname = OB_BUF_INIT;
	char objname[64], *dir = NULL, *path = NULL;
	int64_t now, seq;
	int error, attempt;
	struct tm tm;
	time_t tt;

	*out_path = NULL;
	if (validity_days < 1 || validity_days > OB_CREDENTIALS_MAX_DAYS)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The validity must be from 1 to %d days; %d was given.", OB_CREDENTIALS_MAX_DAYS, validity_days);
	if (!output_dir || !*output_dir)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An output folder is required.");
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if ((error = ob_platform_mkdir_p(output_dir, 0700)) < 0 || (error = ob_platform_realpath(&dir, output_dir)) < 0)
		return error;

	/* Take the next sequence number: a record per issued file, create-only. */
	for (attempt = 0; attempt < 100; attempt++) {
		if ((error = ob_vault_latest_seq(&seq, &vault->conn, OB_PREFIX_CREDENTIALS)) < 0)
			goto done;
		seq++;
		snprintf(objname, sizeof(objname), OB_PREFIX_CREDENTIALS "%010lld", (long long)seq);
		ob_buf_dispose(&rec);
		if ((error = ob_kv_begin(&rec, "credentials", 1)) < 0 ||
		    (error = ob_kv_add_i64(&rec, "sequence", seq)) < 0 ||
		    (error = ob_kv_add_i64(&rec, "issued", now)) < 0 ||
		    (error = ob_kv_add_i64(&rec, "expires", now + (int64_t)validity_days * 86400)) < 0 ||
		    (error = ob_record_sign(&rec, vault->owner_private)) < 0)
			goto done;
		error = vault->conn.be->put(vault->conn.be, objname, rec.data, rec.len);
		if (error != OB_EEXISTS)
			break;
	}
	if (error < 0)
		goto done;

	cred.version = 1;
	cred.resource_type = (char *)"Local";
	cred.vault_name = vault->conn.name;
	cred.vault_id = vault->conn.id;
	cred.storage_location = vault->conn.display;
	if (vault->conn.azure) {
		/* An access token for agents: create, read and list in the container; never delete or overwrite. */
		char *spec = ob_strdup(vault->conn.location + strlen(AZURE_PREFIX)), *access = ob_vault_access_get(vault->conn.location);
		char *account = spec ? strchr(spec, '|') : NULL, *container = account ? strchr(account + 1, '|') : NULL;
		if (!spec || !access || !account || !container || strncmp(access, "key:", 4) != 0) {
			error = ob_err(OB_EACCESS, OB_ERRCLASS_VAULT, "Issuing credentials for an Azure vault needs the storage account key.");
		} else {
			*account++ = '\0';
			*container++ = '\0';
			error = ob_azure_sas_create(&sas, account, access + 4, container, "rcl", now - 300,
				now + (int64_t)(vault->access_days ? vault->access_days : 365) * 86400);
			if (error == 0) {
				cred.resource_type = (char *)"AzureBlob";
				cred.endpoint = ob_strdup(*spec ? spec : "");
				cred.account = ob_strdup(account);
				cred.container = ob_strdup(container);
				cred.access_token = sas;
				sas = NULL;
				azure_fields = 1;
				if (!cred.endpoint || !cred.account || !cred.container)
					error = OB_ENOMEM;
			}
		}
		if (access) {
			ob_wipe(access, strlen(access));
			free(access);
		}
		free(spec);
		if (error < 0)
			goto done;
	}
	cred.sequence = seq;
	cred.issued_at = now;
	cred.expires_at = now + (int64_t)validity_days * 86400;
	{
		uint8_t sig[OB_SIGN_BYTES];
		if ((error = ob_credentials_canonical(&canon, &cred)) < 0 ||
		    (error = ob_sign(sig, vault->owner_private, canon.data, canon.len)) < 0)
			goto done;
		memcpy(cred.signature, sig, sizeof(sig));
	}
	if ((error = ob_credentials_to_xml(&xml, &cred)) < 0)
		goto done;

	tt = (time_t)now;
	localtime_r(&tt, &tm);
	if ((error = ob_buf_printf(&fname, "%s_%04d-%02d-%02d" OB_CREDENTIALS_EXTENSION, vault->conn.name,
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday)) < 0)
		goto done;
	if (!(path = ob_platform_join(dir, fname.data))) {
		error = ob_err_nomem();
		goto done;
	}
	if ((error = ob_platform_write_file(path, xml.data, xml.len, 0600, 1)) < 0)
		goto done;
	*out_path = path;
	path = NULL;
done:
	if (azure_fields) {
		free(cred.endpoint);
		free(cred.account);
		free(cred.container);
		ob_wipe(cred.access_token, strlen(cred.access_token));
		free(cred.access_token);
	}
	free(sas);
	free(dir);
	free(path);
	ob_buf_dispose(&canon);
	ob_buf_dispose(&xml);
	ob_buf_dispose(&rec);
	ob_buf_dispose(&fname);
	return error;
}

int ob_vault_security_pin_new(char **out_pin, int64_t *out_expires, ob_vault *vault)
{
	uint8_t rnd[8], salt[OB_SALT_BYTES], hash[32];
	char pin[9], objname[64], suffix[17];
	char *salt64 = NULL, *hash64 = NULL;
	ob_buf rec = OB_BUF_INIT;
	int64_t now;
	uint64_t v = 0;
	int error, i;

	*out_pin = NULL;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if ((error = ob_random(rnd, sizeof(rnd))) < 0 || (error = ob_random(salt, sizeof(salt))) < 0)
		return error;
	for (i = 0; i < 8; i++)
		v = v << 8 | rnd[i];
	snprintf(pin, sizeof(pin), "%08llu", (unsigned long long)(v % 100000000ull));
	if ((error = ob_kdf_scrypt(hash, sizeof(hash), (const uint8_t *)pin, 8, salt, sizeof(salt), &OB_KDF_PIN)) < 0)
		goto done;
	if (!(salt64 = ob_base64_encode(salt, sizeof(salt))) || !(hash64 = ob_base64_encode(hash, sizeof(hash)))) {
		error = OB_ENOMEM;
		goto done;
	}
	if ((error = ob_random(rnd, sizeof(rnd))) < 0)
		goto done;
	ob_hex_encode(suffix, rnd, sizeof(rnd));
	snprintf(objname, sizeof(objname), OB_PREFIX_PINS "%012lld-%s", (long long)now, suffix);
	if ((error = ob_kv_begin(&rec, "pin", 1)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "issued", now)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "expires", now + OB_SECURITY_PIN_SECONDS)) < 0 ||
	    (error = ob_kv_add(&rec, "salt", salt64)) < 0 ||
	    (error = ob_kv_add(&rec, "hash", hash64)) < 0 ||
	    (error = ob_record_sign(&rec, vault->owner_private)) < 0 ||
	    (error = vault->conn.be->put(vault->conn.be, objname, rec.data, rec.len)) < 0)
		goto done;
	if (!(*out_pin = ob_strdup(pin))) {
		error = OB_ENOMEM;
		goto done;
	}
	if (out_expires)
		*out_expires = now + OB_SECURITY_PIN_SECONDS;
done:
	ob_wipe(pin, sizeof(pin));
	ob_wipe(rnd, sizeof(rnd));
	free(salt64);
	free(hash64);
	ob_buf_dispose(&rec);
	return error;
}

/*
 * Undelete: every marker of the point is voided, then removed. The void comes
 * first and is owner-signed (undeleted/<ob_deletion_hash of the marker>), so
 * that the marker's bytes, saved by anyone who read them and written back after
 * the removal (agents can create), hide nothing: readers ignore a marker whose
 * hash the owner undeleted.
 */
int ob_vault_undelete(ob_vault *vault, const char *server_name, const char *point_id)
{
	ob_backend *be = vault->conn.be;
	ob_name_list markers = { 0 };
	char sid[33], prefix[96], name[300];
	size_t i, plen = point_id ? strlen(point_id) : 0, found = 0;
	int64_t now;
	int error;

	if (!server_name || !*server_name || !point_id || !*point_id || strchr(point_id, '/') || strchr(point_id, '.') || plen > 64)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A server name and a recovery point id are required.");
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	ob_vault_server_id(sid, server_name);
	snprintf(prefix, sizeof(prefix), OB_PREFIX_SERVERS "%s/deleted/", sid);
	if ((error = ob_vault_list_names(&markers, be, prefix, strlen(prefix))) < 0)
		return error;
	for (i = 0; i < markers.n && error == 0; i++) {
		ob_buf rec = OB_BUF_INIT;
		uint8_t sha[32];
		char hex[65], *text = NULL;
		size_t len = 0;
		if (strncmp(markers.v[i], point_id, plen) != 0 || (markers.v[i][plen] != '\0' && markers.v[i][plen] != '.'))
			continue;
		snprintf(name, sizeof(name), "%s%s", prefix, markers.v[i]);
		if ((error = ob_vault_read(&text, &len, &vault->conn, name)) == OB_ENOTFOUND) {
			ob_error_clear();
			error = 0;
			continue;
		}
		if (error < 0)
			break;
		ob_deletion_hash(sha, text, len);
		free(text);
		ob_hex_encode(hex, sha, sizeof(sha));
		snprintf(name, sizeof(name), OB_PREFIX_SERVERS "%s/undeleted/%s", sid, hex);
		if ((error = ob_kv_begin(&rec, "undeletion", 1)) == 0 &&
		    (error = ob_kv_add(&rec, "point", point_id)) == 0 &&
		    (error = ob_kv_add(&rec, "marker", hex)) == 0 &&
		    (error = ob_kv_add_i64(&rec, "at", now)) == 0 &&
		    (error = ob_record_sign(&rec, vault->owner_private)) == 0 &&
		    (error = be->put(be, name, rec.data, rec.len)) == OB_EEXISTS) {
			ob_error_clear();  /* voided before: a replayed copy, or a run that stopped before the removal */
			error = 0;
		}
		ob_buf_dispose(&rec);
		if (error < 0)
			break;
		snprintf(name, sizeof(name), "%s%s", prefix, markers.v[i]);
		if ((error = be->remove(be, name)) == OB_ENOTFOUND) {
			ob_error_clear();
			error = 0;
		}
		if (error == 0)
			found++;
	}
	ob_name_list_dispose(&markers);
	if (error == 0 && !found)
		error = ob_err(OB_ENOTFOUND, OB_ERRCLASS_VAULT, "Recovery point '%s' of server '%s' is not deleted.", point_id, server_name);
	return error;
}
