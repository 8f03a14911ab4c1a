/*
 * For e2e scripts: list every blob of every pack in this server's area of its
 * vault, one "<pack id> <blob id> <sealed length>" line each, by reading the
 * packs' own headers (not the agent's cache or the index). The agent is the
 * one of OBAGENT_HOME. A blob id on two lines was stored twice.
 *   usage: vault_blobs
 */
#define _GNU_SOURCE
#include "obagent.h"
#include "agent/repo_open.h"
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
	ob_agent *agent = NULL;
	ob_repo repo;
	ob_name_list l = { 0 };
	char prefix[96];
	size_t i, j;
	int error;

	ob_init();
	if ((error = ob_agent_open(&agent, NULL)) < 0 || (error = ob_agent_repo_open(&repo, agent, NULL)) < 0) {
		fprintf(stderr, "vault_blobs: %s\n", ob_error_last());
		return 1;
	}
	snprintf(prefix, sizeof(prefix), "%spacks/", repo.prefix);
	if ((error = ob_vault_list_names(&l, repo.vc.be, prefix, strlen(prefix) + 3)) < 0) {
		fprintf(stderr, "vault_blobs: %s\n", ob_error_last());
		return 1;
	}
	for (i = 0; i < l.n; i++) {
		uint8_t id[OB_ID_BYTES];
		ob_pack_entry *e = NULL;
		size_t n = 0;
		char hex[65];
		if (ob_id_parse(id, l.v[i]) < 0)
			continue;  /* not a pack (a temporary file of an interrupted put) */
		if (ob_pack_read_header(&e, &n, &repo, id) < 0) {
			fprintf(stderr, "vault_blobs: pack %s: %s\n", l.v[i], ob_error_last());
			return 1;
		}
		for (j = 0; j < n; j++) {
			ob_id_hex(hex, e[j].id);
			printf("%s %s %u\n", l.v[i], hex, e[j].length);
		}
		free(e);
	}
	ob_name_list_dispose(&l);
	ob_repo_dispose(&repo);
	ob_agent_free(agent);
	return 0;
}
