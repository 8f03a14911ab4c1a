/* The registration and the encryption state of this server, in the catalog. */
#include "catalog/registration.h"
#include "catalog/statement.h"
#include "util/error.h"

#include <stdlib.h>
#include <string.h>

void ob_catalog_registration_dispose(ob_catalog_registration *reg)
{
	free(reg->vault_id);
	free(reg->vault_name);
	free(reg->vault_location);
	free(reg->storage_type);
	free(reg->server_id);
	free(reg->server_name);
	memset(reg, 0, sizeof(*reg));
}

int ob_catalog_registration_get(ob_catalog_registration *out, ob_catalog *cat)
{
	sqlite3_stmt *st;
	int rc, error = 0;

	memset(out, 0, sizeof(*out));
	if ((error = ob_catalog_prepare(&st, cat,
		"SELECT vault_name, vault_id, vault_location, storage_type, server_name, server_id, registered_at "
		"FROM registration WHERE id = 1", "Cannot read the registration")) < 0)
		return error;
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		error = OB_ENOTFOUND;
	} else if (rc != SQLITE_ROW) {
		error = ob_catalog_fail(cat, "Cannot read the registration");
	} else {
		out->vault_name = ob_catalog_column_dup(st, 0);
		out->vault_id = ob_catalog_column_dup(st, 1);
		out->vault_location = ob_catalog_column_dup(st, 2);
		out->storage_type = ob_catalog_column_dup(st, 3);
		out->server_name = ob_catalog_column_dup(st, 4);
		out->server_id = ob_catalog_column_dup(st, 5);
		out->registered_at = sqlite3_column_int64(st, 6);
		if (!out->vault_name || !out->vault_id || !out->vault_location || !out->storage_type ||
		    !out->server_name || !out->server_id)
			error = OB_ENOMEM;
	}
	sqlite3_finalize(st);
	if (error < 0)
		ob_catalog_registration_dispose(out);
	return error;
}

int ob_catalog_registration_save(ob_catalog *cat, const ob_catalog_registration *reg)
{
	return ob_catalog_run(NULL, cat, "Cannot save the registration",
		"INSERT OR REPLACE INTO registration (id, vault_id, vault_name, vault_location, storage_type, server_id, "
		"server_name, credentials_sequence, registered_at) VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
		"ttttttII", reg->vault_id, reg->vault_name, reg->vault_location, reg->storage_type, reg->server_id,
		reg->server_name, reg->credentials_sequence, reg->registered_at);
}

int ob_catalog_encryption_is_set(int *out_set, ob_catalog *cat, const char *vault_id, const char *server_id)
{
	sqlite3_stmt *st;
	int rc, error = 0;

	*out_set = 0;
	if ((error = ob_catalog_prepare(&st, cat,
		"SELECT 1 FROM encryption WHERE id = 1 AND vault_id = ?1 AND server_id = ?2",
		"Cannot read the encryption state")) < 0)
		return error;
	ob_catalog_bind(st, "tt", vault_id, server_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out_set = 1;
	else if (rc != SQLITE_DONE)
		error = ob_catalog_fail(cat, "Cannot read the encryption state");
	sqlite3_finalize(st);
	return error;
}

int ob_catalog_encryption_record(ob_catalog *cat, const char *vault_id, const char *server_id, int64_t seq, int64_t now)
{
	return ob_catalog_run(NULL, cat, "Cannot save the encryption state",
		"INSERT OR REPLACE INTO encryption (id, vault_id, server_id, key_sequence, set_at) VALUES (1, ?1, ?2, ?3, ?4)",
		"ttII", vault_id, server_id, seq, now);
}
