/* The agent of one server: state folder, registration, passphrase, machine settings. */
#include "agent/agent_internal.h"
#include "catalog/registration.h"
#include "vault/credentials.h"
#include "vault/serverkey.h"
#include "util/env.h"
#include "util/error.h"
#include "vault/crypto.h"
#include "vault/vault_internal.h"
#include "platform/file.h"
#include "platform/platform.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SECRET_MASTER_KEY "master.key"
#define SECRET_PROXY_PASSWORD "proxy-password"
#define SECRET_VAULT_ACCESS "vault-access"

static int restore_vault_access(ob_agent *agent);
static int apply_proxy(ob_agent *agent, const char *location);
static int reapply_proxy(ob_agent *agent);

int ob_agent_open(ob_agent **out, const char *home)
{
	ob_agent *a;
	char *env_home = NULL, *catalog_path = NULL;
	int error;

	*out = NULL;
	if (!(a = calloc(1, sizeof(*a))))
		return ob_err_nomem();
	if (home && *home)
		a->home = ob_strdup(home);
	else if ((env_home = ob_env_get("OBAGENT_HOME")) != NULL)
		a->home = env_home;
	else if ((error = ob_platform_default_home(&a->home)) < 0)
		goto fail;
	if (!a->home) {
		error = OB_ENOMEM;
		goto fail;
	}
	if (!ob_platform_path_is_absolute(a->home)) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The agent's state folder must be an absolute path; '%s' is not.", a->home);
		goto fail;
	}
	if (!(a->server_name = ob_env_get("OBAGENT_SERVER_NAME")) &&
	    (error = ob_platform_hostname(&a->server_name)) < 0)
		goto fail;
	if ((error = ob_platform_mkdir_p(a->home, 0700)) < 0)
		goto fail;
	if (!(a->secrets_dir = ob_platform_join(a->home, "secrets")) ||
	    !(catalog_path = ob_platform_join(a->home, "catalog.db"))) {
		error = ob_err_nomem();
		goto fail;
	}
	if ((error = ob_platform_mkdir_p(a->secrets_dir, 0700)) < 0)
		goto fail;
	ob_file_chmod(a->secrets_dir, 0700);
	if ((error = ob_catalog_open(&a->cat, catalog_path)) < 0)
		goto fail;
	free(catalog_path);
	catalog_path = NULL;
	if ((error = restore_vault_access(a)) < 0)
		goto fail;
	*out = a;
	return 0;
fail:
	free(catalog_path);
	ob_agent_free(a);
	return error;
}

void ob_agent_free(ob_agent *agent)
{
	if (!agent)
		return;
	ob_catalog_free(agent->cat);
	free(agent->home);
	free(agent->server_name);
	free(agent->secrets_dir);
	free(agent);
}

const char *ob_agent_home(const ob_agent *agent) { return agent->home; }
const char *ob_agent_server_name(const ob_agent *agent) { return agent->server_name; }

void ob_registration_free(ob_registration *reg)
{
	if (!reg)
		return;
	free(reg->vault_name);
	free(reg->vault_id);
	free(reg->vault_location);
	free(reg->storage_type);
	free(reg->server_name);
	free(reg->server_id);
	free(reg);
}

int ob_agent_registration(ob_registration **out, ob_agent *agent)
{
	ob_catalog_registration row;
	ob_registration *reg = NULL;
	int error;

	*out = NULL;
	error = ob_catalog_registration_get(&row, agent->cat);
	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOTREG, OB_ERRCLASS_JOB,
			"This server is not registered to a vault. Register it first with Start-OBRegistration.");
	if (error < 0)
		return error;
	if (!(reg = calloc(1, sizeof(*reg)))) {
		ob_catalog_registration_dispose(&row);
		return ob_err_nomem();
	}
	/* The row's strings pass to reg. */
	reg->version = OB_REGISTRATION_VERSION;
	reg->vault_name = row.vault_name;
	reg->vault_id = row.vault_id;
	reg->vault_location = row.vault_location;
	reg->storage_type = row.storage_type;
	reg->server_name = row.server_name;
	reg->server_id = row.server_id;
	reg->registered_at = row.registered_at;
	*out = reg;
	return 0;
}

static int has_extension(const char *path, const char *ext)
{
	size_t n = strlen(path), e = strlen(ext);

	return n > e && strcasecmp(path + n - e, ext) == 0;
}

/* Write this server's record in the vault, unless it is there (a re-registration). */
static int put_server_record(ob_vault_conn *vc, const char *server_id, const char *server_name, int64_t now)
{
	ob_buf rec = OB_BUF_INIT;
	char name[128];
	uint8_t digest[32];
	char hex[65];
	int error;

	snprintf(name, sizeof(name), OB_PREFIX_SERVERS "%s/server", server_id);
	if ((error = ob_kv_begin(&rec, "server", 1)) < 0 ||
	    (error = ob_kv_add(&rec, "id", server_id)) < 0 ||
	    (error = ob_kv_add(&rec, "name", server_name)) < 0 ||
	    (error = ob_kv_add_i64(&rec, "registered", now)) < 0)
		goto done;
	/* Agents cannot sign as the owner: a checksum line catches damage. */
	ob_sha256(digest, rec.data, rec.len);
	ob_hex_encode(hex, digest, sizeof(digest));
	if ((error = ob_kv_add(&rec, "sha256", hex)) < 0)
		goto done;
	error = vc->be->put(vc->be, name, rec.data, rec.len);
	if (error == OB_EEXISTS) {
		ob_error_clear();
		error = 0;
	}
done:
	ob_buf_dispose(&rec);
	return error;
}

static int secret_write(ob_agent *agent, const char *name, const void *data, size_t len);
static int secret_read(char **out, size_t *out_len, ob_agent *agent, const char *name);

/* The checks of a credentials path both functions below make. */
static int check_credentials_path(const char *credentials_path)
{
	if (!credentials_path || !*credentials_path)
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS, "A vault credentials file is required.");
	if (!ob_platform_path_is_absolute(credentials_path))
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials path '%s' is relative. Give the absolute path of the file.", credentials_path);
	if (!has_extension(credentials_path, OB_CREDENTIALS_EXTENSION))
		return ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"'%s' is not a vault credentials file: the name must end in " OB_CREDENTIALS_EXTENSION ".",
			credentials_path);
	return 0;
}

int ob_credentials_vault(char **out_vault_id, char **out_vault_name, const char *credentials_path)
{
	char *xml = NULL, *id = NULL, *name = NULL;
	size_t xml_len;
	ob_credentials cred = { 0 };
	int error;

	if (out_vault_id)
		*out_vault_id = NULL;
	if (out_vault_name)
		*out_vault_name = NULL;
	if ((error = check_credentials_path(credentials_path)) < 0)
		return error;
	if ((error = ob_platform_read_file(&xml, &xml_len, credentials_path, OB_CREDENTIALS_MAX_BYTES)) < 0) {
		if (error == OB_EINVALID)
			error = ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
				"The vault credentials file '%s' is malformed (too large). Download a new file from the vault.",
				credentials_path);
		return error;
	}
	if ((error = ob_credentials_parse(&cred, xml, xml_len)) < 0)
		goto done;
	if (!(id = ob_strdup(cred.vault_id)) || !(name = ob_strdup(cred.vault_name))) {
		error = ob_err_nomem();
		goto done;
	}
	if (out_vault_id) {
		*out_vault_id = id;
		id = NULL;
	}
	if (out_vault_name) {
		*out_vault_name = name;
		name = NULL;
	}
done:
	free(id);
	free(name);
	ob_credentials_dispose(&cred);
	free(xml);
	return error;
}

int ob_agent_register(ob_registration **out, ob_agent *agent, const char *credentials_path)
{
	char *xml = NULL, server_id[33], *location = NULL;
	size_t xml_len;
	ob_credentials cred = { 0 };
	ob_vault_conn vc = { 0 };
	ob_buf canon = OB_BUF_INIT;
	ob_registration *current = NULL;
	ob_kv latest = { 0 };
	int64_t now, latest_seq;
	int error;

	if (out)
		*out = NULL;
	if ((error = check_credentials_path(credentials_path)) < 0)
		return error;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if ((error = ob_platform_read_file(&xml, &xml_len, credentials_path, OB_CREDENTIALS_MAX_BYTES)) < 0) {
		if (error == OB_EINVALID)
			error = ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
				"The vault credentials file '%s' is malformed (too large). Download a new file from the vault.",
				credentials_path);
		return error;
	}
	if ((error = ob_credentials_parse(&cred, xml, xml_len)) < 0)
		goto done;
	if (!strcmp(cred.resource_type, "AzureBlob")) {
		/* The file carries the container's access token: remember it for this process, keep it sealed. */
		ob_buf access = OB_BUF_INIT;
		if ((error = ob_vault_azure_location(&location, cred.endpoint[0] ? cred.endpoint : NULL, cred.account,
			cred.container)) == 0 && (error = ob_buf_printf(&access, "sas:%s", cred.access_token)) == 0)
			error = ob_vault_access_set(location, access.data);
		ob_buf_dispose(&access);
		if (error == 0)
			error = apply_proxy(agent, location);
		if (error < 0)
			goto done;
	} else if (strcmp(cred.resource_type, "Local") != 0) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file names a '%s' vault, which this agent cannot reach.", cred.resource_type);
		goto done;
	} else if (!(location = ob_strdup(cred.storage_location))) {
		error = OB_ENOMEM;
		goto done;
	}
	if ((error = ob_vault_conn_open(&vc, location)) < 0)
		goto done;
	if (strcmp(vc.id, cred.vault_id) != 0) {
		error = ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file does not belong to the vault at '%s'. Download a new file from that vault.",
			vc.location);
		goto done;
	}
	if ((error = ob_credentials_canonical(&canon, &cred)) < 0)
		goto done;
	if (ob_verify(vc.owner_public, canon.data, canon.len, cred.signature) < 0) {
		error = ob_err(OB_EAUTH, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file was changed after it was issued (its signature does not match). "
			"Download a new file from the vault and use it as it is.");
		goto done;
	}
	if (now >= cred.expires_at) {
		char when[21];
		ob_time_format_utc(when, cred.expires_at);
		error = ob_err(OB_EEXPIRED, OB_ERRCLASS_CREDENTIALS,
			"The vault credentials file expired at %s. Download a new one (Get-OBVaultCredentials) and register within its validity.",
			when);
		goto done;
	}
	if ((error = ob_vault_latest_seq(&latest_seq, &vc, OB_PREFIX_CREDENTIALS)) < 0)
		goto done;
	if (latest_seq > cred.sequence) {
		char name[64];
		snprintf(name, sizeof(name), OB_PREFIX_CREDENTIALS "%010lld", (long long)latest_seq);
		/* Only a genuine newer record supersedes this file. */
		if (ob_vault_read_signed(&latest, &vc, name, "credentials") == 0) {
			error = ob_err(OB_ESUPERSEDED, OB_ERRCLASS_CREDENTIALS,
				"A newer vault credentials file has been issued for vault '%s'; only the newest one registers servers. Use the newest file.",
				vc.name);
			goto done;
		}
		ob_error_clear();
	}

	error = ob_agent_registration(&current, agent);
	if (error == 0 && strcmp(current->vault_id, vc.id) != 0) {
		error = ob_err(OB_EFOREIGN, OB_ERRCLASS_CREDENTIALS,
			"This server is registered to another vault ('%s'). A server belongs to one vault: use that vault's credentials, "
			"or give this agent another state folder.", current->vault_name);
		goto done;
	}
	if (error < 0 && error != OB_ENOTREG)
		goto done;
	ob_error_clear();

	ob_vault_server_id(server_id, agent->server_name);
	if ((error = put_server_record(&vc, server_id, agent->server_name, now)) < 0)
		goto done;

	{
		ob_catalog_registration row = { vc.id, vc.name, vc.location, vc.azure ? "AzureBlob" : "Local", server_id,
			agent->server_name, cred.sequence, now };
		if ((error = ob_catalog_registration_save(agent->cat, &row)) < 0)
			goto done;
	}
	error = 0;
	if (vc.azure)
		error = secret_write(agent, SECRET_VAULT_ACCESS, cred.access_token, strlen(cred.access_token));
	if (error == 0 && out)
		error = ob_agent_registration(out, agent);
done:
	free(location);
	ob_registration_free(current);
	ob_kv_dispose(&latest);
	ob_buf_dispose(&canon);
	ob_vault_conn_dispose(&vc);
	ob_credentials_dispose(&cred);
	free(xml);
	return error;
}

/* ---- secrets kept by the agent, owner-only ---- */

static int secret_path(char **out, ob_agent *agent, const char *name)
{
	*out = ob_platform_join(agent->secrets_dir, name);
	return *out ? 0 : ob_err_nomem();
}

/*
 * A sealed secret, version 2 (bound to the machine): "OBS2", 8 bytes that tell the key it was
 * sealed with (the first bytes of HMAC-SHA-256(key, SECRET_CHECK)), the nonce, the AES-256-GCM
 * ciphertext and tag, with the associated data SECRET_AAD2 and the secret's name. Version 1,
 * written before the binding and where the machine has no identity: the nonce, ciphertext and tag
 * under local.key's bytes with SECRET_AAD1.
 */
#define SECRET_AAD1 "obagent-local-secret-v1"
#define SECRET_AAD2 "obagent-local-secret-v2|"
#define SECRET_MAGIC "OBS2"
#define SECRET_CHECK "obagent-local-key-check"
#define SECRET_HEAD (4 + 8)

static int secret_check(uint8_t out[8], const uint8_t key[32])
{
	uint8_t mac[32];
	int error = ob_hmac_sha256(mac, key, 32, SECRET_CHECK, strlen(SECRET_CHECK));

	memcpy(out, mac, 8);
	ob_wipe(mac, sizeof(mac));
	return error;
}

/* What a secret is for, and what sets it again, for the message that says it cannot be opened here. */
static const char *secret_remedy(const char *name)
{
	if (!strcmp(name, SECRET_MASTER_KEY))
		return "Set the encryption passphrase again (Set-OBMachineSetting -EncryptionPassphrase, obagent passphrase): "
			"it opens the server's key from the vault";
	if (!strcmp(name, SECRET_VAULT_ACCESS))
		return "Register the server again with a vault credentials file (Start-OBRegistration, obagent register)";
	return "Set the proxy again (Set-OBMachineSetting -ProxyServer ... -ProxyPassword)";
}

/* Secrets are sealed (AES-256-GCM) with the platform's local key, bound to this machine, then written owner-only. */
static int secret_write(ob_agent *agent, const char *name, const void *data, size_t len)
{
	uint8_t key[32], nonce[OB_AEAD_NONCE_BYTES], *sealed = NULL, *at;
	char *path = NULL;
	ob_buf aad = OB_BUF_INIT;
	size_t head;
	int error, bound = 0;

	if ((error = secret_path(&path, agent, name)) < 0)
		return error;
	if ((error = ob_platform_local_key(key, &bound, agent->secrets_dir)) < 0)
		goto done;
	head = bound ? SECRET_HEAD : 0;
	if (!(sealed = malloc(head + OB_AEAD_NONCE_BYTES + len + OB_AEAD_TAG_BYTES))) {
		error = ob_err_nomem();
		goto done;
	}
	at = sealed + head;
	if (bound) {
		memcpy(sealed, SECRET_MAGIC, 4);
		error = secret_check(sealed + 4, key);
	}
	if (error < 0 || (error = ob_buf_printf(&aad, "%s%s", bound ? SECRET_AAD2 : SECRET_AAD1, bound ? name : "")) < 0 ||
	    (error = ob_random(nonce, sizeof(nonce))) < 0 ||
	    (error = ob_aead_seal(at + OB_AEAD_NONCE_BYTES, key, nonce, aad.data, aad.len, data, len)) < 0)
		goto done;
	memcpy(at, nonce, sizeof(nonce));
	error = ob_platform_write_file(path, sealed, head + OB_AEAD_NONCE_BYTES + len + OB_AEAD_TAG_BYTES, 0600, 1);
done:
	ob_wipe(key, sizeof(key));
	free(sealed);
	free(path);
	ob_buf_dispose(&aad);
	return error;
}

/* Open sealed bytes (nonce, ciphertext, tag) into plain (len - nonce - tag bytes): 0, or -1 if they do not open. */
static int secret_open(char *plain, const uint8_t key[32], const char *aad, size_t aad_len, const uint8_t *data, size_t len)
{
	if (len < OB_AEAD_NONCE_BYTES + OB_AEAD_TAG_BYTES)
		return -1;
	return ob_aead_open((uint8_t *)plain, key, data, aad, aad_len, data + OB_AEAD_NONCE_BYTES,
		len - OB_AEAD_NONCE_BYTES) < 0 ? -1 : 0;
}

/*
 * Read a sealed secret: *out (malloc'd, NUL-terminated; wipe it) and *out_len. One sealed before
 * the binding (version 1) opens once with local.key alone and is sealed again bound to this
 * machine. One bound to another machine (the state folder was copied or moved here, or this
 * machine's identity changed) is refused with OB_ENOKEY and what sets it again.
 */
static int secret_read(char **out, size_t *out_len, ob_agent *agent, const char *name)
{
	uint8_t key[32], check[8];
	char *path = NULL, *data = NULL, *plain = NULL;
	ob_buf aad = OB_BUF_INIT;
	size_t len = 0, plain_len = 0;
	int error, bound = 0, opened = 0, elsewhere = 0;

	*out = NULL;
	*out_len = 0;
	if ((error = secret_path(&path, agent, name)) < 0)
		return error;
	if ((error = ob_platform_read_file(&data, &len, path, 1 << 16)) < 0)
		goto done;
	if (len < OB_AEAD_NONCE_BYTES + OB_AEAD_TAG_BYTES) {
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "The agent's secret '%s' is damaged. %s.", name,
			secret_remedy(name));
		goto done;
	}
	if (!(plain = malloc(len + 1))) {
		error = ob_err_nomem();
		goto done;
	}
	if (len >= SECRET_HEAD + OB_AEAD_NONCE_BYTES + OB_AEAD_TAG_BYTES && !memcmp(data, SECRET_MAGIC, 4)) {
		if ((error = ob_platform_local_key(key, &bound, agent->secrets_dir)) < 0 ||
		    (error = secret_check(check, key)) < 0 || (error = ob_buf_printf(&aad, SECRET_AAD2 "%s", name)) < 0)
			goto done;
		if (!bound || ob_ct_compare(check, data + 4, 8) != 0)
			elsewhere = 1;
		else if (secret_open(plain, key, aad.data, aad.len, (const uint8_t *)data + SECRET_HEAD, len - SECRET_HEAD) == 0) {
			opened = 1;
			plain_len = len - SECRET_HEAD - OB_AEAD_NONCE_BYTES - OB_AEAD_TAG_BYTES;
		}
	}
	if (!opened) {
		/* Sealed before the binding (a version 1 nonce may begin with the magic, once in 2^32). */
		error = ob_platform_local_key_unbound(key, agent->secrets_dir);
		if (error == 0 && secret_open(plain, key, SECRET_AAD1, strlen(SECRET_AAD1), (const uint8_t *)data, len) == 0) {
			opened = 2;
			plain_len = len - OB_AEAD_NONCE_BYTES - OB_AEAD_TAG_BYTES;
		} else if (error < 0 && error != OB_ENOTFOUND) {
			goto done;
		}
		ob_error_clear();
		error = 0;
	}
	if (!opened) {
		error = elsewhere
			? ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO,
				"The agent's secret '%s' was sealed on another machine: the state folder was copied or moved here, "
				"or this machine's identity (/etc/machine-id) changed, and its secrets open only where they were "
				"sealed. %s.", name, secret_remedy(name))
			: ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO,
				"The agent's secret '%s' cannot be opened (damaged, or local.key changed). %s.", name,
				secret_remedy(name));
		goto done;
	}
	plain[plain_len] = '\0';
	/* Sealed again, bound to this machine; should that fail, it opened, which is what the caller needs now. */
	if (opened == 2 && ob_platform_local_key(key, &bound, agent->secrets_dir) == 0 && bound)
		secret_write(agent, name, plain, plain_len);
	ob_error_clear();
	*out_len = plain_len;
	*out = plain;
	plain = NULL;
done:
	ob_wipe(key, sizeof(key));
	if (data) {
		ob_wipe(data, len);
		free(data);
	}
	if (plain) {
		ob_wipe(plain, len + 1);
		free(plain);
	}
	free(path);
	ob_buf_dispose(&aad);
	return error;
}

static int secret_remove(ob_agent *agent, const char *name)
{
	char *path;
	int error;

	if ((error = secret_path(&path, agent, name)) < 0)
		return error;
	error = ob_platform_remove_file(path);
	free(path);
	return error;
}

/* The local copy of this server's master key, bound to its vault and server. */
static int local_key_save(ob_agent *agent, const ob_registration *reg, const uint8_t master[OB_MASTER_KEY_BYTES],
	int64_t seq)
{
	ob_buf rec = OB_BUF_INIT;
	char *key64 = ob_base64_encode(master, OB_MASTER_KEY_BYTES);
	int error;

	if (!key64)
		return OB_ENOMEM;
	if ((error = ob_kv_begin(&rec, "local-key", 1)) == 0 &&
	    (error = ob_kv_add(&rec, "vault_id", reg->vault_id)) == 0 &&
	    (error = ob_kv_add(&rec, "server_id", reg->server_id)) == 0 &&
	    (error = ob_kv_add_i64(&rec, "key_sequence", seq)) == 0 &&
	    (error = ob_kv_add(&rec, "master_key", key64)) == 0)
		error = secret_write(agent, SECRET_MASTER_KEY, rec.data, rec.len);
	ob_wipe(key64, strlen(key64));
	free(key64);
	ob_buf_dispose(&rec);
	return error;
}

static int local_key_load(uint8_t master[OB_MASTER_KEY_BYTES], int64_t *out_seq, ob_agent *agent,
	const ob_registration *reg)
{
	char *text = NULL;
	size_t len;
	ob_kv kv;
	uint8_t *key = NULL;
	size_t key_len;
	const char *vid, *sid;
	int error;

	error = secret_read(&text, &len, agent, SECRET_MASTER_KEY);
	if (error == OB_ENOTFOUND)
		return ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO,
			"No encryption passphrase is set on this server. Set one with Set-OBMachineSetting -EncryptionPassphrase.");
	if (error < 0)
		return error;
	error = ob_kv_parse(&kv, text, len);
	ob_wipe(text, len);
	free(text);
	if (error < 0)
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_CRYPTO, "The agent's key file is damaged. Set the passphrase again.");
	vid = ob_kv_get(&kv, "vault_id");
	sid = ob_kv_get(&kv, "server_id");
	if (!vid || !sid || strcmp(vid, reg->vault_id) || strcmp(sid, reg->server_id)) {
		error = ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO,
			"The agent's key belongs to another vault or server. Set the passphrase again.");
	} else if ((error = ob_kv_get_b64(&key, &key_len, &kv, "master_key", OB_MASTER_KEY_BYTES)) == 0) {
		memcpy(master, key, OB_MASTER_KEY_BYTES);
		if (out_seq && (ob_kv_get_i64(out_seq, &kv, "key_sequence") < 0 || *out_seq < 0)) {
			ob_error_clear();
			*out_seq = 0;
		}
	}
	if (key) {
		ob_wipe(key, key_len);
		free(key);
	}
	ob_kv_dispose(&kv);
	return error;
}

static int encryption_state(int *out_set, ob_agent *agent, const ob_registration *reg)
{
	return ob_catalog_encryption_is_set(out_set, agent->cat, reg->vault_id, reg->server_id);
}

static int encryption_record(ob_agent *agent, const ob_registration *reg, int64_t seq, int64_t now)
{
	return ob_catalog_encryption_record(agent->cat, reg->vault_id, reg->server_id, seq, now);
}

static int passphrase_valid(const uint8_t *pp, size_t len)
{
	size_t i;

	if (!pp || len < OB_PASSPHRASE_MIN_LENGTH)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The encryption passphrase must be at least %d characters long.", OB_PASSPHRASE_MIN_LENGTH);
	for (i = 0; i < len; i++)
		if (pp[i] < 0x20 || pp[i] > 0x7e)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
				"The encryption passphrase may contain only printable ASCII characters (no accents, symbols beyond ASCII or control characters).");
	return 0;
}

static int pin_blank(const char *pin)
{
	if (!pin)
		return 1;
	for (; *pin; pin++)
		if (!isspace((unsigned char)*pin))
			return 0;
	return 1;
}

int ob_agent_pin_check(ob_agent *agent, const char *security_pin, const char *what)
{
	ob_registration *reg = NULL;
	ob_vault_conn vc;
	int64_t now;
	int error;

	if (pin_blank(security_pin))
		return ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
			"%s needs a security PIN. Get one from the vault owner (New-OBSecurityPin) and pass it with -SecurityPin.", what);
	if ((error = ob_clock_now(&now)) < 0 || (error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	/* The PIN needs only the vault, not this server's key. */
	if ((error = ob_vault_conn_open(&vc, reg->vault_location)) == 0) {
		while (*security_pin == ' ')
			security_pin++;
		error = ob_vault_pin_check(&vc, security_pin, reg->server_name, now);
		ob_vault_conn_dispose(&vc);
	}
	ob_registration_free(reg);
	return error;
}

/* Warnings about the vault's objects (forged key records skipped) go to the caller's stderr. */
int ob_agent_set_passphrase(ob_agent *agent, const uint8_t *passphrase, size_t passphrase_len, const char *security_pin)
{
	ob_registration *reg = NULL;
	ob_vault_conn vc = { 0 };
	uint8_t master[OB_MASTER_KEY_BYTES];
	int64_t now, seq = 0, known = 0;
	int error, have_local, have_records;

	if ((error = passphrase_valid(passphrase, passphrase_len)) < 0)
		return error;
	if ((error = ob_clock_now(&now)) < 0)
		return error;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_vault_conn_open(&vc, reg->vault_location)) < 0)
		goto done;
	if (strcmp(vc.id, reg->vault_id) != 0) {
		error = ob_err(OB_EFOREIGN, OB_ERRCLASS_VAULT,
			"The vault at '%s' is no longer the vault this server registered to. Register again.", reg->vault_location);
		goto done;
	}
	if ((error = encryption_state(&have_local, agent, reg)) < 0)
		goto done;
	if (have_local && local_key_load(master, &known, agent, reg) < 0) {
		ob_error_clear();
		have_local = 0;
		known = 0;
	}
	if ((error = ob_server_key_exists(&have_records, &vc, reg->server_id)) < 0)
		goto done;

	if (have_records && !have_local) {
		/* The vault has this server's key: only its passphrase may open it, and only a genuine record counts. */
		ob_server_key_info info;
		error = ob_server_key_open(master, &seq, &info, &vc, reg->server_id, passphrase, passphrase_len,
			ob_warn_stderr, NULL);
		if (error == OB_EPASSPHRASE)
			error = ob_err(OB_EPASSPHRASE, OB_ERRCLASS_CRYPTO,
				"The passphrase does not open this server's key. Give the passphrase last set for this server. "
				"(If '%s' is a new server, not one registered before under that name, the name is already taken in "
				"vault '%s', which holds %zu key record%s for it%s: register this server under another name.)",
				reg->server_name, reg->vault_name, info.records, info.records == 1 ? "" : "s",
				info.tried == 0 ? ", none of them genuine" : "");
		if (error < 0 || (error = local_key_save(agent, reg, master, seq)) < 0 ||
		    (error = encryption_record(agent, reg, seq, now)) < 0)
			goto done;
		goto done;
	}

	if (have_records) {
		/* A change of passphrase: the vault owner must allow it. */
		if (pin_blank(security_pin)) {
			error = ob_err(OB_EAUTH, OB_ERRCLASS_VAULT,
				"Changing the encryption passphrase needs a security PIN. Get one from the vault owner (New-OBSecurityPin) "
				"and pass it with -SecurityPin.");
			goto done;
		}
		if ((error = ob_vault_pin_check(&vc, security_pin, reg->server_name, now)) < 0)
			goto done;
		/* The first free name above the newest genuine wrap: forged names higher up take nothing away. */
		if ((error = ob_server_key_next_seq(&seq, &vc, reg->server_id, master, known)) < 0)
			goto done;
	} else {
		/* The first passphrase creates the key (a key kept locally is wrapped as it is), at the anchor's place. */
		if (!have_local && (error = ob_random(master, sizeof(master))) < 0)
			goto done;
		seq = 1;
	}

	/* Create-only: of two changes at once, one wins; the newest genuine wrap is the key. */
	if ((error = ob_server_key_write(&vc, reg->server_id, seq, master, passphrase, passphrase_len, now)) < 0) {
		if (error == OB_EEXISTS)
			error = ob_err(OB_ELOCKED, OB_ERRCLASS_VAULT,
				"Another change of this server's passphrase happened at the same time. Try again.");
		goto done;
	}
	if ((error = local_key_save(agent, reg, master, seq)) < 0 || (error = encryption_record(agent, reg, seq, now)) < 0)
		goto done;
done:
	ob_wipe(master, sizeof(master));
	ob_vault_conn_dispose(&vc);
	ob_registration_free(reg);
	return error;
}

int ob_agent_check_passphrase(ob_agent *agent, const uint8_t *passphrase, size_t passphrase_len)
{
	ob_registration *reg = NULL;
	ob_vault_conn vc = { 0 };
	uint8_t master[OB_MASTER_KEY_BYTES];
	int error, have_local;

	if ((error = passphrase_valid(passphrase, passphrase_len)) < 0)
		return error;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = encryption_state(&have_local, agent, reg)) < 0)
		goto done;
	if (!have_local) {
		error = ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO,
			"No encryption passphrase is set on this server. Set one with Set-OBMachineSetting -EncryptionPassphrase.");
		goto done;
	}
	if ((error = ob_vault_conn_open(&vc, reg->vault_location)) < 0)
		goto done;
	if (strcmp(vc.id, reg->vault_id) != 0) {
		error = ob_err(OB_EFOREIGN, OB_ERRCLASS_VAULT,
			"The vault at '%s' is no longer the vault this server registered to. Register again.", reg->vault_location);
		goto done;
	}
	/* The newest genuine wrap is the key: only the passphrase last set opens it. */
	error = ob_server_key_open(master, NULL, NULL, &vc, reg->server_id, passphrase, passphrase_len, ob_warn_stderr, NULL);
	ob_wipe(master, sizeof(master));
	if (error == OB_ENOTFOUND)
		error = ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO,
			"Vault '%s' holds no key record for this server. Set the passphrase again with Set-OBMachineSetting "
			"-EncryptionPassphrase.", reg->vault_name);
	else if (error == OB_EPASSPHRASE)
		error = ob_err(OB_EPASSPHRASE, OB_ERRCLASS_CRYPTO,
			"The passphrase is not the one set for this server (it does not open the server's key). Give the passphrase "
			"last set, or change it with Set-OBMachineSetting -EncryptionPassphrase and a security PIN.");
done:
	ob_vault_conn_dispose(&vc);
	ob_registration_free(reg);
	return error;
}

/* ---- machine settings ---- */

#define S_PROXY_SERVER "proxy.server"
#define S_PROXY_PORT "proxy.port"
#define S_PROXY_USER "proxy.username"
#define S_THROTTLE_DAYS "throttle.work_days"
#define S_THROTTLE_START "throttle.start_minute"
#define S_THROTTLE_END "throttle.end_minute"
#define S_THROTTLE_WORK "throttle.work_bandwidth"
#define S_THROTTLE_NONWORK "throttle.non_work_bandwidth"

static int64_t setting_i64(ob_agent *agent, const char *name, int64_t fallback)
{
	char *v = NULL;
	int64_t n;

	if (ob_catalog_setting_get(&v, agent->cat, name) < 0 || ob_parse_i64(&n, v) < 0)
		n = fallback;
	free(v);
	return n;
}

void ob_machine_settings_free(ob_machine_settings *s)
{
	if (!s)
		return;
	free(s->proxy_server);
	free(s->proxy_username);
	free(s);
}

int ob_agent_settings(ob_machine_settings **out, ob_agent *agent)
{
	ob_machine_settings *s;
	ob_registration *reg = NULL;
	char *path = NULL;
	int error;

	*out = NULL;
	if (!(s = calloc(1, sizeof(*s))))
		return ob_err_nomem();
	s->version = OB_MACHINE_SETTINGS_VERSION;
	error = ob_catalog_setting_get(&s->proxy_server, agent->cat, S_PROXY_SERVER);
	if (error == 0) {
		s->proxy_enabled = 1;
		s->proxy_port = (int32_t)setting_i64(agent, S_PROXY_PORT, 0);
		if (ob_catalog_setting_get(&s->proxy_username, agent->cat, S_PROXY_USER) < 0)
			s->proxy_username = NULL;
		if ((error = secret_path(&path, agent, SECRET_PROXY_PASSWORD)) < 0)
			goto fail;
		s->proxy_has_password = ob_platform_exists(path);
	} else if (error != OB_ENOTFOUND) {
		goto fail;
	}
	if ((s->work_days = (uint32_t)setting_i64(agent, S_THROTTLE_DAYS, 0)) != 0) {
		s->throttle_enabled = 1;
		s->start_work_minute = (int32_t)setting_i64(agent, S_THROTTLE_START, 0);
		s->end_work_minute = (int32_t)setting_i64(agent, S_THROTTLE_END, 0);
		s->work_hour_bandwidth = (uint32_t)setting_i64(agent, S_THROTTLE_WORK, 0);
		s->non_work_hour_bandwidth = (uint32_t)setting_i64(agent, S_THROTTLE_NONWORK, 0);
	}
	error = ob_agent_registration(&reg, agent);
	if (error == 0) {
		int set = 0;
		uint8_t master[OB_MASTER_KEY_BYTES];
		if ((error = encryption_state(&set, agent, reg)) < 0)
			goto fail;
		if (set && local_key_load(master, NULL, agent, reg) == 0)
			s->encryption_key_set = 1;
		ob_wipe(master, sizeof(master));
	} else if (error != OB_ENOTREG) {
		goto fail;
	}
	ob_error_clear();
	ob_registration_free(reg);
	free(path);
	*out = s;
	return 0;
fail:
	ob_registration_free(reg);
	free(path);
	ob_machine_settings_free(s);
	return error;
}

static int begin(ob_agent *agent)
{
	return ob_catalog_begin(agent->cat);
}

static int finish(ob_agent *agent, int error)
{
	if (error < 0) {
		ob_catalog_rollback(agent->cat);
		return error;
	}
	return ob_catalog_commit(agent->cat);
}

int ob_agent_set_proxy(ob_agent *agent, const char *server, int32_t port, const char *username,
	const uint8_t *password, size_t password_len)
{
	char num[16];
	const char *p;
	int error;

	if (!server || !*server || strlen(server) > 255)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A proxy server name is required (at most 255 characters).");
	for (p = server; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The proxy server '%s' contains spaces or control characters.", server);
	if (port < 1 || port > 65535)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The proxy port must be from 1 to 65535; %d was given.", (int)port);
	if (password && password_len && (!username || !*username))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A proxy password needs a proxy user name.");
	snprintf(num, sizeof(num), "%d", (int)port);
	if ((error = begin(agent)) < 0)
		return error;
	if ((error = ob_catalog_setting_set(agent->cat, S_PROXY_SERVER, server)) == 0 &&
	    (error = ob_catalog_setting_set(agent->cat, S_PROXY_PORT, num)) == 0) {
		if (username && *username)
			error = ob_catalog_setting_set(agent->cat, S_PROXY_USER, username);
		else
			error = ob_catalog_setting_delete(agent->cat, S_PROXY_USER);
	}
	if (error == 0) {
		if (password && password_len)
			error = secret_write(agent, SECRET_PROXY_PASSWORD, password, password_len);
		else
			error = secret_remove(agent, SECRET_PROXY_PASSWORD);
	}
	if ((error = finish(agent, error)) < 0)
		return error;
	return reapply_proxy(agent);
}

int ob_agent_set_no_proxy(ob_agent *agent)
{
	int error;

	if ((error = begin(agent)) < 0)
		return error;
	if ((error = ob_catalog_setting_delete(agent->cat, S_PROXY_SERVER)) == 0 &&
	    (error = ob_catalog_setting_delete(agent->cat, S_PROXY_PORT)) == 0 &&
	    (error = ob_catalog_setting_delete(agent->cat, S_PROXY_USER)) == 0)
		error = secret_remove(agent, SECRET_PROXY_PASSWORD);
	if ((error = finish(agent, error)) < 0)
		return error;
	return reapply_proxy(agent);
}

int ob_agent_set_throttle(ob_agent *agent, uint32_t work_days, int32_t start_minute, int32_t end_minute,
	uint32_t work_bandwidth, uint32_t non_work_bandwidth)
{
	char v[5][16];
	int error;

	if (work_days == 0 || work_days > 0x7f)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Give at least one work day.");
	if (start_minute < 0 || end_minute > 24 * 60 || start_minute >= end_minute)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The work hours must start before they end, within one day (StartWorkHour < EndWorkHour).");
	if (work_bandwidth < OB_BANDWIDTH_MIN || work_bandwidth > OB_BANDWIDTH_MAX ||
	    non_work_bandwidth < OB_BANDWIDTH_MIN || non_work_bandwidth > OB_BANDWIDTH_MAX)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"Bandwidth must be from %u to %u bytes per second (512 Kbps to 1023 Mbps).", OB_BANDWIDTH_MIN, OB_BANDWIDTH_MAX);
	snprintf(v[0], 16, "%u", work_days);
	snprintf(v[1], 16, "%d", (int)start_minute);
	snprintf(v[2], 16, "%d", (int)end_minute);
	snprintf(v[3], 16, "%u", work_bandwidth);
	snprintf(v[4], 16, "%u", non_work_bandwidth);
	if ((error = begin(agent)) < 0)
		return error;
	if ((error = ob_catalog_setting_set(agent->cat, S_THROTTLE_DAYS, v[0])) == 0 &&
	    (error = ob_catalog_setting_set(agent->cat, S_THROTTLE_START, v[1])) == 0 &&
	    (error = ob_catalog_setting_set(agent->cat, S_THROTTLE_END, v[2])) == 0 &&
	    (error = ob_catalog_setting_set(agent->cat, S_THROTTLE_WORK, v[3])) == 0)
		error = ob_catalog_setting_set(agent->cat, S_THROTTLE_NONWORK, v[4]);
	return finish(agent, error);
}

int ob_agent_set_no_throttle(ob_agent *agent)
{
	int error;

	if ((error = begin(agent)) < 0)
		return error;
	if ((error = ob_catalog_setting_delete(agent->cat, S_THROTTLE_DAYS)) == 0 &&
	    (error = ob_catalog_setting_delete(agent->cat, S_THROTTLE_START)) == 0 &&
	    (error = ob_catalog_setting_delete(agent->cat, S_THROTTLE_END)) == 0 &&
	    (error = ob_catalog_setting_delete(agent->cat, S_THROTTLE_WORK)) == 0)
		error = ob_catalog_setting_delete(agent->cat, S_THROTTLE_NONWORK);
	return finish(agent, error);
}

int ob_agent_master_key(uint8_t master[OB_MASTER_KEY_BYTES], ob_agent *agent, const ob_registration *reg)
{
	int64_t seq;

	return ob_agent_master_key_seq(master, &seq, agent, reg);
}

int ob_agent_master_key_seq(uint8_t master[OB_MASTER_KEY_BYTES], int64_t *out_seq, ob_agent *agent,
	const ob_registration *reg)
{
	int set = 0, error;

	*out_seq = 0;
	if ((error = encryption_state(&set, agent, reg)) < 0)
		return error;
	if (!set)
		return ob_err(OB_ENOKEY, OB_ERRCLASS_CRYPTO,
			"No encryption passphrase is set on this server. Set one with Set-OBMachineSetting -EncryptionPassphrase.");
	return local_key_load(master, out_seq, agent, reg);
}

/*
 * The agent's proxy setting (Set-OBMachineSetting -ProxyServer) for the requests
 * to an Azure location made by this process; no setting: a direct connection.
 */
static int apply_proxy(ob_agent *agent, const char *location)
{
	char *server = NULL, *user = NULL, *password = NULL;
	size_t password_len = 0;
	int64_t port = setting_i64(agent, S_PROXY_PORT, 0);
	int error = ob_catalog_setting_get(&server, agent->cat, S_PROXY_SERVER);

	if (error == OB_ENOTFOUND) {
		ob_error_clear();
		return ob_vault_proxy_set(location, NULL, 0, NULL, NULL, 0);
	}
	if (error < 0)
		return error;
	if (ob_catalog_setting_get(&user, agent->cat, S_PROXY_USER) < 0)
		user = NULL;
	if (secret_read(&password, &password_len, agent, SECRET_PROXY_PASSWORD) < 0) {
		password = NULL;
		password_len = 0;
	}
	ob_error_clear();
	error = ob_vault_proxy_set(location, server, (unsigned int)port, user, (const uint8_t *)password, password_len);
	if (password) {
		ob_wipe(password, password_len);
		free(password);
	}
	free(server);
	free(user);
	return error;
}

/* The proxy setting changed: a registered Azure vault is reached the new way from now on. */
static int reapply_proxy(ob_agent *agent)
{
	ob_registration *reg = NULL;
	int error = ob_agent_registration(&reg, agent);

	if (error < 0 || !ob_vault_location_is_azure(reg->vault_location)) {
		ob_registration_free(reg);
		ob_error_clear();
		return 0;
	}
	error = apply_proxy(agent, reg->vault_location);
	ob_registration_free(reg);
	return error;
}

/* A server registered to an Azure vault: make its access token known to this process. */
static int restore_vault_access(ob_agent *agent)
{
	ob_registration *reg = NULL;
	char *token = NULL;
	size_t len;
	ob_buf access = OB_BUF_INIT;
	int error = ob_agent_registration(&reg, agent);

	if (error < 0 || strcmp(reg->storage_type, "AzureBlob") != 0) {
		ob_registration_free(reg);
		ob_error_clear();
		return 0;
	}
	if ((error = secret_read(&token, &len, agent, SECRET_VAULT_ACCESS)) < 0) {
		/* Not fatal here: operations on the vault will say to register again. */
		ob_error_clear();
		error = 0;
	} else if ((error = ob_buf_printf(&access, "sas:%s", token)) == 0) {
		error = ob_vault_access_set(reg->vault_location, access.data);
	}
	if (error == 0)
		error = apply_proxy(agent, reg->vault_location);
	if (token) {
		ob_wipe(token, len);
		free(token);
	}
	ob_buf_dispose(&access);
	ob_registration_free(reg);
	return error;
}
