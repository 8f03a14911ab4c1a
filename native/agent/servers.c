/*
 * The servers registered to this server's vault (Get-OBAlternateBackupServer):
 * their records, which registration writes (agent/agent.c), each checked
 * against its checksum line.
 */
#include "obagent/recovery.h"
#include "agent/agent_internal.h"
#include "util/error.h"
#include "vault/crypto.h"
#include "vault/vault_internal.h"

#include <stdlib.h>
#include <string.h>

static void server_free(void *item)
{
	ob_backup_server *s = item;

	if (!s)
		return;
	free(s->server_name);
	free(s->server_id);
	free(s);
}

void ob_backup_servers_free(ob_backup_server **list, size_t count)
{
	ob_list_free(list, count, server_free);
}

/* Read a server record (checked against its checksum line). */
static int server_record(ob_kv *kv, ob_vault_conn *vc, const char *name)
{
	char *text = NULL, *line, hex[65];
	size_t len;
	uint8_t digest[32];
	int error;

	if ((error = ob_vault_read(&text, &len, vc, name)) < 0)
		return error;
	line = strstr(text, "\nsha256=");
	if (!line || (ob_sha256(digest, text, (size_t)(line - text) + 1), ob_hex_encode(hex, digest, 32),
		strncmp(line + 8, hex, 64) != 0)) {
		free(text);
		return ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Server record '%s' is damaged.", name);
	}
	error = ob_kv_parse(kv, text, len);
	free(text);
	if (error == 0 && strcmp(kv->kind, "server") != 0) {
		ob_kv_dispose(kv);
		error = ob_err(OB_ECORRUPT, OB_ERRCLASS_VAULT, "Server record '%s' is damaged.", name);
	}
	return error;
}

int ob_backup_servers(ob_backup_server ***out, size_t *out_count, ob_agent *agent)
{
	ob_registration *reg = NULL;
	ob_vault_conn vc;
	ob_backup_server **v = NULL;
	ob_name_list l = { 0 };
	size_t n = 0, i;
	int error, open = 0;

	*out = NULL;
	*out_count = 0;
	if ((error = ob_agent_registration(&reg, agent)) < 0)
		return error;
	if ((error = ob_vault_conn_open(&vc, reg->vault_location)) < 0)
		goto done;
	open = 1;
	if ((error = ob_vault_list_names(&l, vc.be, OB_PREFIX_SERVERS, 0)) < 0)
		goto done;
	if (!(v = calloc(l.n ? l.n : 1, sizeof(*v)))) {
		error = ob_err_nomem();
		goto done;
	}
	for (i = 0; i < l.n; i++) {
		size_t len = strlen(l.v[i]);
		ob_kv kv;
		int64_t when = 0;
		if (len < 7 || strcmp(l.v[i] + len - 7, "/server") != 0 || server_record(&kv, &vc, l.v[i]) < 0) {
			ob_error_clear();
			continue;
		}
		if (!(v[n] = calloc(1, sizeof(**v)))) {
			ob_kv_dispose(&kv);
			error = ob_err_nomem();
			goto done;
		}
		v[n]->version = OB_BACKUP_SERVER_VERSION;
		v[n]->server_name = strdup(ob_kv_get(&kv, "name") ? ob_kv_get(&kv, "name") : "");
		v[n]->server_id = strdup(ob_kv_get(&kv, "id") ? ob_kv_get(&kv, "id") : "");
		ob_kv_get_i64(&when, &kv, "registered");
		v[n]->registered_at = when;
		v[n]->is_this_server = v[n]->server_id && strcmp(v[n]->server_id, reg->server_id) == 0;
		ob_kv_dispose(&kv);
		ob_error_clear();
		n++;
	}
	*out = v;
	*out_count = n;
	v = NULL;
done:
	ob_backup_servers_free(v, n);
	ob_name_list_dispose(&l);
	if (open)
		ob_vault_conn_dispose(&vc);
	ob_registration_free(reg);
	return error;
}
