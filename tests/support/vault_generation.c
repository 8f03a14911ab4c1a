/*
 * For e2e scripts: act as the vault owner's maintenance does on the generation
 * of this server's area (docs/FORMAT.md, "Generation"), without the rest of a
 * run: "take" takes the next generation (owner-signed) and prints its number,
 * "end N" writes N's end. The agent is the one of OBAGENT_HOME; its vault must
 * be a local one (the owner's key is in its folder). Readers ignore generation
 * records that are not the owner's, so a script cannot write them by hand.
 *   usage: vault_generation take | end <N>
 */
#define _GNU_SOURCE
#include "obagent.h"
#include "agent/repo_open.h"
#include "util/env.h"
#include "vault/vault_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	ob_agent *agent = NULL;
	ob_repo repo;
	uint8_t owner[OB_SIGN_PRIVATE_BYTES];
	uint64_t n = 0;
	int64_t now = 0;
	int error;

	if (argc < 2 || (strcmp(argv[1], "take") && (strcmp(argv[1], "end") || argc < 3))) {
		fprintf(stderr, "usage: vault_generation take | end <N>\n");
		return 2;
	}
	ob_init();
	if ((error = ob_agent_open(&agent, NULL)) < 0 || (error = ob_agent_repo_open(&repo, agent, NULL)) < 0) {
		fprintf(stderr, "vault_generation: %s\n", ob_error_last());
		return 1;
	}
	if ((error = ob_vault_conn_owner_key(owner, &repo.vc)) == 0 && (error = ob_clock_now(&now)) == 0) {
		if (!strcmp(argv[1], "take")) {
			if ((error = ob_repo_generation_bump(&n, &repo, owner, now)) == 0)
				printf("%llu\n", (unsigned long long)n);
		} else {
			error = ob_repo_generation_end(&repo, owner, strtoull(argv[2], NULL, 10), now);
		}
	}
	ob_wipe(owner, sizeof(owner));
	if (error < 0)
		fprintf(stderr, "vault_generation: %s\n", ob_error_last());
	ob_repo_dispose(&repo);
	ob_agent_free(agent);
	return error < 0 ? 1 : 0;
}
