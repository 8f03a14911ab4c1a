/*
 * The Azure Blob back end's owner administration: creating and deleting the
 * vault's container, issuing access tokens (service SAS), and the leases that
 * hold a vault for one maintenance task at a time. docs/AZURE.md, "Leases".
 */
#include "storage/azure_internal.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

/* ---- the owner's helpers ---- */

static int container_request(const ob_azure_options *opts, const char *method, const char *what)
{
	az_backend *ab = NULL;
	az_request rq;
	az_response rs;
	int error;

	if ((error = ob_az_open(&ab, opts)) < 0)
		return error;
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.method = method;
	rq.what = what;
	ADD_QUERY(rq, "restype", "container");
	if ((error = ob_az_perform(ab, &rq, &rs)) == 0 && !(rs.curl == CURLE_OK && (rs.status == 201 || rs.status == 202))) {
		if (rs.curl == CURLE_OK && rs.status == 409 && strcmp(rs.error_code, "ContainerAlreadyExists") == 0 &&
		    strcmp(method, "PUT") == 0)
			error = 0;
		else if (rs.curl == CURLE_OK && rs.status == 404 && rs.maybe_applied && strcmp(method, "DELETE") == 0)
			error = 0;
		else
			error = ob_az_fail(ab, &rq, &rs);
	}
	ob_az_response_dispose(&rs);
	ob_az_free(&ab->parent);
	return error;
}

int ob_azure_container_create(const ob_azure_options *opts)
{
	return container_request(opts, "PUT", "creating the vault container");
}

int ob_azure_container_delete(const ob_azure_options *opts)
{
	return container_request(opts, "DELETE", "deleting the vault container");
}

int ob_azure_sas_create(char **out, const char *account, const char *account_key,
	const char *container, const char *permissions, int64_t start, int64_t expiry)
{
	ob_buf sts = OB_BUF_INIT, tok = OB_BUF_INIT;
	char perms[32], st[21] = "", se[21], sig[64];
	uint8_t *key = NULL;
	size_t key_len = 0, n = 0;
	const char *p;
	int error;

	if (!out)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No place for the access token (out is NULL).");
	*out = NULL;
	if (!account || !*account || !ob_az_valid_container(container))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An access token needs an account and a valid container name.");
	if (!permissions || !*permissions || strlen(permissions) >= sizeof(perms))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An access token needs permissions, such as \"rcl\".");
	for (p = permissions; *p; p++)
		if (!strchr(OB_AZURE_SAS_PERMISSION_ORDER, *p))
			return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "'%c' is not a blob SAS permission (use letters of \"%s\").",
				*p, OB_AZURE_SAS_PERMISSION_ORDER);
	for (p = OB_AZURE_SAS_PERMISSION_ORDER; *p; p++)
		if (strchr(permissions, *p))
			perms[n++] = *p;
	perms[n] = '\0';
	if (expiry <= 0 || (start && start >= expiry))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "An access token needs an expiry after its start.");
	if (start)
		ob_time_format_utc(st, start);
	ob_time_format_utc(se, expiry);
	if ((error = ob_azure_key_decode(&key, &key_len, account_key)) < 0)
		return error;
	if ((error = ob_azure_sas_string_to_sign(&sts, account, container, perms, st, se, OB_AZURE_API_VERSION)) < 0 ||
	    (error = ob_azure_hmac(sig, key, key_len, sts.data, sts.len)) < 0 ||
	    (error = ob_buf_printf(&tok, "sv=%s", OB_AZURE_API_VERSION)) < 0)
		goto done;
	if (start && ((error = ob_buf_puts(&tok, "&st=")) < 0 || (error = ob_azure_url_encode(&tok, st, 0)) < 0))
		goto done;
	if ((error = ob_buf_puts(&tok, "&se=")) < 0 || (error = ob_azure_url_encode(&tok, se, 0)) < 0 ||
	    (error = ob_buf_printf(&tok, "&sr=c&sp=%s&sig=", perms)) < 0 ||
	    (error = ob_azure_url_encode(&tok, sig, 0)) < 0)
		goto done;
	*out = ob_buf_detach(&tok);
done:
	OPENSSL_cleanse(key, key_len);
	free(key);
	ob_buf_dispose(&sts);
	ob_buf_dispose(&tok);
	return error;
}

/* ---- leases ---- */

static int lease_request(az_backend *ab, const char *name, const char *action, const char *duration,
	const char *lease_id, az_response *rs, const char *what)
{
	az_request rq;
	int error;

	memset(&rq, 0, sizeof(rq));
	rq.method = "PUT";
	rq.what = what;
	rq.perm = "w";
	rq.blob = name;
	ADD_QUERY(rq, "comp", "lease");
	ADD_HEADER(rq, "x-ms-lease-action", action);
	if (duration)
		ADD_HEADER(rq, "x-ms-lease-duration", duration);
	if (lease_id)
		ADD_HEADER(rq, "x-ms-lease-id", lease_id);
	if ((error = ob_az_perform(ab, &rq, rs)) < 0)
		return error;
	if (rs->curl == CURLE_OK && (rs->status == 200 || rs->status == 201))
		return 0;
	return ob_az_fail(ab, &rq, rs);
}

static int lease_backend(az_backend **out, ob_backend *be, const char *name)
{
	az_backend *ab = ob_az_backend(be);

	if (!ab)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "Leases need an Azure Blob back end.");
	*out = ab;
	return ob_az_check_name(name);
}

int ob_azure_lease_acquire(char **out_lease_id, ob_backend *be, const char *name, int duration_seconds)
{
	az_backend *ab = NULL;
	az_response rs;
	char dur[16], what[1200];
	int error, tries;

	if (!out_lease_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No place for the lease id.");
	*out_lease_id = NULL;
	if ((error = lease_backend(&ab, be, name)) < 0)
		return error;
	if (duration_seconds != -1 && (duration_seconds < 15 || duration_seconds > 60))
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "A lease lasts 15 to 60 seconds, or -1 for ever; not %d.", duration_seconds);
	snprintf(dur, sizeof(dur), "%d", duration_seconds);
	snprintf(what, sizeof(what), "taking the lease on '%s'", name);
	for (tries = 0; tries < 2; tries++) {
		memset(&rs, 0, sizeof(rs));
		error = lease_request(ab, name, "acquire", dur, NULL, &rs, what);
		if (error == OB_ENOTFOUND && tries == 0 && strcmp(rs.error_code, "BlobNotFound") == 0) {
			/* No lock blob yet: create it (empty) and try again; someone else creating it is fine. */
			ob_az_response_dispose(&rs);
			if ((error = ob_az_put_single(ab, name, "", 0, "1B2M2Y8AsgTpgAmY7PhCfg==")) < 0 && error != OB_EEXISTS)
				return error;
			continue;
		}
		break;
	}
	if (error == 0 && !rs.lease_id[0])
		error = ob_err(OB_EIO, OB_ERRCLASS_VAULT, "The vault at %s granted a lease on '%s' without an id.", ab->endpoint, name);
	if (error == 0 && !(*out_lease_id = ob_strdup(rs.lease_id)))
		error = OB_ENOMEM;
	ob_az_response_dispose(&rs);
	return error;
}

/* Renew or release a lease we hold: one request that differs only in its action. */
static int lease_change(ob_backend *be, const char *name, const char *lease_id, const char *action, const char *doing)
{
	az_backend *ab = NULL;
	az_response rs;
	char what[1200];
	int error;

	if ((error = lease_backend(&ab, be, name)) < 0)
		return error;
	if (!lease_id || !*lease_id)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "No lease id to %s.", action);
	memset(&rs, 0, sizeof(rs));
	snprintf(what, sizeof(what), "%s the lease on '%s'", doing, name);
	error = lease_request(ab, name, action, NULL, lease_id, &rs, what);
	ob_az_response_dispose(&rs);
	return error;
}

int ob_azure_lease_renew(ob_backend *be, const char *name, const char *lease_id)
{
	return lease_change(be, name, lease_id, "renew", "renewing");
}

int ob_azure_lease_release(ob_backend *be, const char *name, const char *lease_id)
{
	return lease_change(be, name, lease_id, "release", "releasing");
}
