#define _GNU_SOURCE
/*
 * obagent: the command-line runner. It runs jobs for the scheduler and for the
 * module (run-job), and offers the main operations to hosts without
 * PowerShell and to benchmarks. It only calls the public C API.
 */
#include "obagent.h"

#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _WIN32
#include <windows.h>
#define usleep(us) Sleep((DWORD)((us) / 1000))
#else
#include <unistd.h>
#endif

static int usage(void)
{
	fprintf(stderr,
		"usage: obagent <command> [options]\n"
		"  vault-create --name NAME --path DIR     create a local vault\n"
		"  vault-create --name NAME --account A --container C [--endpoint URL]\n"
		"                                          create a vault on Azure Blob Storage (key: OBAGENT_OWNER_KEY)\n"
		"  credentials --vault DIR --out DIR [--days N]\n"
		"  credentials --account A --container C [--endpoint URL] --out DIR [--days N]\n"
		"                                          issue a vault credentials file\n"
		"  pin --vault DIR | --account A --container C [--endpoint URL]\n"
		"                                          issue a security PIN (valid 5 minutes) as the vault owner\n"
		"  register FILE                           register this server (absolute path)\n"
		"  passphrase [--pin PIN]                  set the passphrase (from OBAGENT_PASSPHRASE or stdin)\n"
		"  policy [--exclude] PATH...              commit a file policy (--exclude applies to the next path)\n"
		"  backup [--async]                        back up now (waits unless --async)\n"
		"  jobs [N]                                the last N jobs\n"
		"  stop JOB                                stop a job\n"
		"  points [--server NAME]                  list recovery points, newest first (another server's: no passphrase)\n"
		"  usage                                   bytes stored by this server\n"
		"  test-point ID                           read and check every object of a recovery point\n"
		"  delete-point ID --pin PIN               soft-delete a recovery point (14 days before maintenance purges it);\n"
		"                                          the PIN comes from the vault owner (pin)\n"
		"  maintenance [--grace SECONDS]           purge, prune and repack this server's data\n"
		"                                          (an Azure vault needs OBAGENT_OWNER_KEY)\n"
		"  restore --point ID --dest DIR [--datasource ID] [--item PATH]\n"
		"          [--overwrite copy|skip|overwrite] [--skip-security] [--special-files]\n"
		"  mount --point ID [--datasource ID] [--path DIR] [--expiry SECONDS] [--server NAME]\n"
		"                                          mount a recovery point read-only (another server's: its\n"
		"                                          passphrase in OBAGENT_PASSPHRASE); prints the job and the folder\n"
		"  unmount JOB                             unmount a mounted point (stop JOB does too)\n"
		"  mounts                                  the mounted points: job, folder, expiry\n"
		"  service [--once [--wait]]               run scheduled backups and drills (see samples/obagent.service)\n"
		"  run-job --job ID [--lock-fd N]          run a job (used by the agent)\n"
		"Environment: OBAGENT_HOME, OBAGENT_SERVER_NAME, OBAGENT_NOW.\n");
	return 2;
}

/*
 * The secrets the runner takes from its environment (the vault owner's account key, a passphrase),
 * taken out of it as the runner starts (take_secret) and wiped as it exits.
 */
static char *owner_key, *passphrase_env;

/*
 * Copy a secret variable, then wipe its value where it was and unset it: nothing this process
 * starts inherits it, and /proc/<pid>/environ, which shows the block the process started with,
 * no longer holds it.
 */
static char *take_secret(const char *name)
{
	char *v = getenv(name), *copy;

	if (!v)
		return NULL;
	copy = strdup(v);
	memset(v, 0, strlen(v));
#ifdef _WIN32
	_putenv_s(name, "");
#else
	unsetenv(name);
#endif
	return copy;
}

static void wipe_secrets(void)
{
	if (owner_key)
		memset(owner_key, 0, strlen(owner_key));
	if (passphrase_env)
		memset(passphrase_env, 0, strlen(passphrase_env));
	free(owner_key);
	free(passphrase_env);
	owner_key = passphrase_env = NULL;
}

static int fail(const char *what, int code)
{
	fprintf(stderr, "obagent: %s: %s (%s)\n", what, ob_error_last(), ob_error_name(code));
	return 1;
}

static const char *opt(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i < argc - 1; i++)
		if (strcmp(argv[i], name) == 0)
			return argv[i + 1];
	return NULL;
}

static int flag(int argc, char **argv, const char *name)
{
	int i;

	for (i = 0; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

/*
 * A vault on Azure Blob Storage named by --account and --container (and --endpoint
 * for Azurite or a sovereign cloud). The owner's key comes from OBAGENT_OWNER_KEY,
 * never from the command line, where other users could read it. 1 when given,
 * 0 when not, -1 when the key is missing.
 */
static int azure_options(ob_vault_azure_options *o, int argc, char **argv)
{
	o->account = opt(argc, argv, "--account");
	o->container = opt(argc, argv, "--container");
	o->endpoint = opt(argc, argv, "--endpoint");
	o->account_key = owner_key;
	if (!o->account && !o->container)
		return 0;
	if (!o->account || !o->container || !o->account_key || !*o->account_key) {
		fprintf(stderr, "obagent: an Azure vault needs --account, --container and the account key in OBAGENT_OWNER_KEY\n");
		return -1;
	}
	return 1;
}

static ob_agent *open_agent(void)
{
	ob_agent *a = NULL;
	int rc = ob_agent_open(&a, NULL);

	if (rc < 0) {
		fail("cannot open the agent", rc);
		exit(1);
	}
	return a;
}

static void print_job(const ob_job_info *j)
{
	char start[32] = "", end[32] = "";
	time_t t = (time_t)j->start_time;

	strftime(start, sizeof(start), "%Y-%m-%d %H:%M:%S", localtime(&t));
	if (j->end_time) {
		t = (time_t)j->end_time;
		strftime(end, sizeof(end), "%Y-%m-%d %H:%M:%S", localtime(&t));
	}
	printf("%s  %-8s %-21s %s  %s  files %llu/%llu failed %llu  bytes %llu uploaded %llu%s%s\n", j->job_id,
		j->type == OB_JOB_BACKUP ? "Backup" : j->type == OB_JOB_MOUNT ? "Mount" : "Recovery", ob_job_state_name(j->state), start, end,
		(unsigned long long)j->files_done, (unsigned long long)j->files_scanned, (unsigned long long)j->files_failed,
		(unsigned long long)j->bytes_done, (unsigned long long)j->bytes_uploaded,
		j->error_message ? "  error: " : "", j->error_message ? j->error_message : "");
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* What the service reports, on stdout and stderr (a Windows service has neither: the job history has it all). */
static void service_started(const ob_job_info *j, void *payload)
{
	(void)payload;
	printf("Started scheduled %s %s\n", j->type == OB_JOB_DRILL ? "recovery drill" : "backup", j->job_id);
	fflush(stdout);
}

static void service_ended(const ob_job_info *j, void *payload)
{
	(void)payload;
	print_job(j);
	fflush(stdout);
}

static void service_failed(int rc, const char *message, void *payload)
{
	(void)payload;
	fprintf(stderr, "obagent service: %s (%s)\n", message, ob_error_name(rc));
}

static int cmd_backup(int argc, char **argv)
{
	ob_agent *a = open_agent();
	ob_job_info *j = NULL;
	char *id, last_phase[256] = "";
	int rc = ob_backup_start(&j, a, 0), state, written = -1;

	if (rc < 0)
		return fail("cannot start the backup", rc);
	if (flag(argc, argv, "--async")) {
		print_job(j);
		ob_job_info_free(j);
		ob_agent_free(a);
		return 0;
	}
	id = strdup(j->job_id);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (;;) {
		if (j->phase && strcmp(j->phase, last_phase) != 0) {
			/* MARS's lines in their order: those of phases too short to be seen come before this one. */
			const char *lines[OB_JOB_PHASE_LINES_MAX];
			int n = ob_job_phase_lines(lines, OB_JOB_PHASE_LINES_MAX, &written, j->phase), i;
			snprintf(last_phase, sizeof(last_phase), "%s", j->phase);
			if (n < 0)
				printf("%s\n", j->phase);
			for (i = 0; i < n; i++)
				printf("%s\n", lines[i]);
			fflush(stdout);
		}
		if (j->state != OB_JOB_INPROGRESS)
			break;
		if (interrupted) {
			ob_job_stop(a, id);
			interrupted = 0;
		}
		usleep(100 * 1000);
		ob_job_info_free(j);
		j = NULL;
		if ((rc = ob_job_get(&j, a, id)) < 0)
			return fail("cannot follow the job", rc);
	}
	print_job(j);
	state = j->state;
	if (state == OB_JOB_COMPLETED)
		printf("The backup operation completed successfully.\n");
	else if (state == OB_JOB_COMPLETED_WITH_WARNING) {
		char *failed = NULL;
		printf("The backup operation completed with warnings.\n");
		/* What was not backed up, and why (path<TAB>reason lines): a missing folder is named here. */
		if (ob_job_failed_files(&failed, a, j->job_id) == 0 && failed)
			fprintf(stderr, "%s", failed);
		ob_str_free(failed);
	}
	ob_job_info_free(j);
	free(id);
	ob_agent_free(a);
	return state == OB_JOB_COMPLETED ? 0 : state == OB_JOB_COMPLETED_WITH_WARNING ? 3 : 1;
}

static int cmd_restore(int argc, char **argv)
{
	ob_agent *a = open_agent();
	ob_restore_options o = OB_RESTORE_OPTIONS_INIT;
	const char *ow = opt(argc, argv, "--overwrite"), *ds = opt(argc, argv, "--datasource");
	char *failed = NULL;
	int rc;

	o.point_id = opt(argc, argv, "--point");
	o.destination = opt(argc, argv, "--dest");
	o.item = opt(argc, argv, "--item") ? opt(argc, argv, "--item") : "";
	o.datasource_id = ds ? strtoll(ds, NULL, 10) : 0;
	o.skip_security = flag(argc, argv, "--skip-security");
	/* Device nodes and set-id bits only when asked for, as tar's --same-permissions. */
	o.special_files = flag(argc, argv, "--special-files");
	if (ow)
		o.overwrite = !strcmp(ow, "skip") ? OB_OVERWRITE_SKIP : !strcmp(ow, "overwrite") ? OB_OVERWRITE_OVERWRITE
			: OB_OVERWRITE_CREATE_COPY;
	if (!o.point_id || !o.destination)
		return usage();
	rc = ob_restore(&failed, a, &o);
	if (failed)
		fprintf(stderr, "%s", failed);
	ob_agent_free(a);
	if (rc < 0) {
		ob_str_free(failed);
		return fail("restore", rc);
	}
	/* Everything restored, but something left out on purpose (listed above): exit 3, as a backup's warnings. */
	printf(failed ? "The recovery operation completed with warnings.\n" : "The recovery operation completed successfully.\n");
	ob_str_free(failed);
	return failed ? 3 : 0;
}

static int cmd_policy(int argc, char **argv)
{
	ob_agent *a = open_agent();
	ob_filespec_input *specs = calloc((size_t)argc + 1, sizeof(*specs));
	ob_policy *p = NULL;
	size_t n = 0;
	int i, exclude = 0, rc;

	for (i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--exclude")) {
			exclude = 1;
			continue;
		}
		specs[n].spec = argv[i];
		specs[n].is_exclude = exclude;
		specs[n].is_recursive = 1;
		n++;
		exclude = 0;
	}
	rc = ob_policy_commit(&p, a, specs, n);
	if (rc == 0)
		for (i = 0; (size_t)i < n; i++) {
			/* Committed, as in MARS; say so when it is not there now (a wildcard's folder for a wildcard). */
			const char *slash = strrchr(specs[i].spec, '/');
			char folder[4096];
			struct stat st;
			snprintf(folder, sizeof(folder), "%.*s", slash && strpbrk(slash, "*?") ? (int)(slash - specs[i].spec) : 4095,
				specs[i].spec);
#ifdef _WIN32
			if (!specs[i].is_exclude && stat(folder[0] ? folder : "\\", &st) != 0)
#else
			if (!specs[i].is_exclude && lstat(folder[0] ? folder : "/", &st) != 0)
#endif
				fprintf(stderr, "warning: the inclusion '%s' does not exist now: each backup lists it as missing "
					"until it exists.\n", specs[i].spec);
		}
	free(specs);
	if (rc < 0)
		return fail("cannot commit the policy", rc);
	printf("Policy %s committed with %zu data source(s).\n", ob_policy_name(p), ob_policy_datasource_count(p));
	ob_policy_free(p);
	ob_agent_free(a);
	return 0;
}

static int cmd_passphrase(int argc, char **argv)
{
	ob_agent *a = open_agent();
	char line[1024], *pp = passphrase_env;
	size_t len;
	int rc;

	if (!pp) {
		if (!fgets(line, sizeof(line), stdin))
			return usage();
		line[strcspn(line, "\r\n")] = '\0';
		pp = line;
	}
	len = strlen(pp);
	rc = ob_agent_set_passphrase(a, (const uint8_t *)pp, len, opt(argc, argv, "--pin"));
	memset(line, 0, sizeof(line));
	ob_agent_free(a);
	if (rc < 0)
		return fail("cannot set the passphrase", rc);
	printf("Server properties updated successfully.\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;
	int rc;

	if (argc < 2)
		return usage();
	cmd = argv[1];
	/*
	 * Every command may hold keys (the master key, a passphrase, the owner's key): no core file,
	 * no tracing. The job worker and the service, which outlive their callers, also work from `/`;
	 * the other commands keep the caller's folder, which their path arguments are relative to.
	 */
	if (ob_process_harden(!strcmp(cmd, "run-job") || !strcmp(cmd, "service")) < 0) {
		fprintf(stderr, "obagent: %s\n", ob_error_last());
		return 1;
	}
	owner_key = take_secret("OBAGENT_OWNER_KEY");
	passphrase_env = take_secret("OBAGENT_PASSPHRASE");
	atexit(wipe_secrets);
	ob_init();
	argc -= 2;
	argv += 2;
	if (!strcmp(cmd, "run-job")) {
		/*
		 * The worker allocates and frees buffers of up to a few MiB from several
		 * threads: keep them in two heaps that are reused rather than returned
		 * and faulted in again, which bounds memory and saves page faults.
		 */
#ifdef __GLIBC__
		mallopt(M_ARENA_MAX, 2);
		mallopt(M_MMAP_THRESHOLD, 32 << 20);
		mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
	}
	if (!strcmp(cmd, "run-job")) {
		const char *job = opt(argc, argv, "--job"), *fd = opt(argc, argv, "--lock-fd"), *kfd = opt(argc, argv, "--key-fd");
		ob_agent *a;
		if (!job)
			return usage();
		a = open_agent();
		rc = ob_job_run(a, job, fd ? atoi(fd) : -1, kfd ? atoi(kfd) : -1);
		ob_agent_free(a);
		if (rc < 0 && rc != OB_ECANCELLED)
			fprintf(stderr, "obagent: job %s: %s\n", job, ob_error_last());
		return rc < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "backup"))
		return cmd_backup(argc, argv);
	if (!strcmp(cmd, "restore"))
		return cmd_restore(argc, argv);
	if (!strcmp(cmd, "policy"))
		return cmd_policy(argc, argv);
	if (!strcmp(cmd, "passphrase"))
		return cmd_passphrase(argc, argv);
	if (!strcmp(cmd, "vault-create")) {
		ob_vault *v = NULL;
		const char *name = opt(argc, argv, "--name"), *path = opt(argc, argv, "--path");
		ob_vault_azure_options az = OB_VAULT_AZURE_OPTIONS_INIT;
		int azure = azure_options(&az, argc, argv);
		if (!name || (!path && !azure) || azure < 0)
			return usage();
		if ((rc = azure ? ob_vault_create_azure(&v, name, &az) : ob_vault_create(&v, path, name)) < 0)
			return fail("cannot create the vault", rc);
		printf("%s %s\n", ob_vault_id(v), ob_vault_location(v));
		ob_vault_free(v);
		return 0;
	}
	if (!strcmp(cmd, "credentials")) {
		ob_vault *v = NULL;
		char *path = NULL;
		const char *vault = opt(argc, argv, "--vault"), *out = opt(argc, argv, "--out"), *days = opt(argc, argv, "--days");
		ob_vault_azure_options az = OB_VAULT_AZURE_OPTIONS_INIT;
		int azure = azure_options(&az, argc, argv);
		if ((!vault && !azure) || !out || azure < 0)
			return usage();
		if ((rc = azure ? ob_vault_open_azure(&v, &az) : ob_vault_open(&v, vault)) < 0)
			return fail("cannot open the vault", rc);
		if ((rc = ob_vault_credentials_issue(&path, v, out, days ? atoi(days) : 10)) < 0)
			return fail("cannot issue credentials", rc);
		printf("%s\n", path);
		ob_str_free(path);
		ob_vault_free(v);
		return 0;
	}
	if (!strcmp(cmd, "pin")) {
		ob_vault *v = NULL;
		char *pin = NULL;
		int64_t expires = 0;
		const char *vault = opt(argc, argv, "--vault");
		ob_vault_azure_options az = OB_VAULT_AZURE_OPTIONS_INIT;
		int azure = azure_options(&az, argc, argv);
		if ((!vault && !azure) || azure < 0)
			return usage();
		if ((rc = azure ? ob_vault_open_azure(&v, &az) : ob_vault_open(&v, vault)) < 0)
			return fail("cannot open the vault", rc);
		if ((rc = ob_vault_security_pin_new(&pin, &expires, v)) < 0)
			return fail("cannot issue a security PIN", rc);
		printf("%s\n", pin);
		ob_str_free(pin);
		ob_vault_free(v);
		return 0;
	}
	if (!strcmp(cmd, "register")) {
		ob_agent *a;
		ob_registration *r = NULL;
		if (argc < 1)
			return usage();
		a = open_agent();
		if ((rc = ob_agent_register(&r, a, argv[0])) < 0)
			return fail("registration failed", rc);
		printf("Machine registration succeeded. (vault %s, server %s)\n", r->vault_name, r->server_name);
		ob_registration_free(r);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "jobs")) {
		ob_agent *a = open_agent();
		ob_job_info **list = NULL, *cur = NULL;
		size_t n = 0, i;
		if (ob_job_current(&cur, a) == 0) {
			print_job(cur);
			ob_job_info_free(cur);
		}
		/* Mounted points run beside the job in progress. */
		if (ob_recovery_mounts(&list, &n, a) == 0) {
			for (i = 0; i < n; i++)
				print_job(list[i]);
			ob_job_list_free(list, n);
			list = NULL;
			n = 0;
		}
		if ((rc = ob_job_list(&list, &n, a, argc > 0 ? (size_t)atoi(argv[0]) : 10, OB_JOB_FILTER_ALL)) < 0)
			return fail("cannot list jobs", rc);
		for (i = 0; i < n; i++)
			print_job(list[i]);
		ob_job_list_free(list, n);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "mount")) {
		ob_agent *a = open_agent();
		ob_mount_request r;
		ob_job_info *j = NULL;
		char *path = NULL;
		const char *ds = opt(argc, argv, "--datasource"), *ex = opt(argc, argv, "--expiry");
		memset(&r, 0, sizeof(r));
		r.version = OB_MOUNT_REQUEST_VERSION;
		r.point_id = opt(argc, argv, "--point");
		r.server_name = opt(argc, argv, "--server");
		r.mount_path = opt(argc, argv, "--path");
		r.datasource_id = ds ? strtoll(ds, NULL, 10) : 0;
		r.expiry_seconds = ex ? strtoll(ex, NULL, 10) : 0;
		if (r.server_name && passphrase_env) {
			r.passphrase = (const uint8_t *)passphrase_env;
			r.passphrase_len = strlen(passphrase_env);
		}
		if (!r.point_id)
			return usage();
		if ((rc = ob_recovery_mount_start(&j, &path, a, &r)) < 0)
			return fail("cannot mount the recovery point", rc);
		printf("%s %s\n", j->job_id, path);
		fprintf(stderr, "Recovery volume mounted as disk. Browse volume from file explorer to recover items.%s\n", path);
		ob_str_free(path);
		ob_job_info_free(j);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "unmount")) {
		ob_agent *a = open_agent();
		if (argc < 1)
			return usage();
		if ((rc = ob_recovery_unmount(a, argv[0], 0)) < 0)
			return fail("cannot unmount", rc);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "mounts")) {
		ob_agent *a = open_agent();
		ob_job_info **list = NULL;
		size_t n = 0, i;
		if ((rc = ob_recovery_mounts(&list, &n, a)) < 0)
			return fail("cannot list the mounts", rc);
		for (i = 0; i < n; i++) {
			char *path = NULL, when[32] = "";
			int64_t expires = 0;
			time_t t;
			ob_recovery_mount_path(&path, &expires, a, list[i]->job_id);
			t = (time_t)expires;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
			printf("%s %s %s expires %s\n", list[i]->job_id, list[i]->recovery_point ? list[i]->recovery_point : "",
				path ? path : "", when);
			ob_str_free(path);
		}
		ob_job_list_free(list, n);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "stop")) {
		ob_agent *a = open_agent();
		if (argc < 1)
			return usage();
		if ((rc = ob_job_stop(a, argv[0])) < 0)
			return fail("cannot stop the job", rc);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "points")) {
		ob_agent *a = open_agent();
		ob_recovery_point **pts = NULL;
		size_t n = 0, i;
		const char *server = opt(argc, argv, "--server");
		/* Another server's: listed without its passphrase, from the points' signed summaries. */
		if ((rc = server ? ob_recovery_points_of(&pts, &n, a, server) : ob_recovery_points(&pts, &n, a)) < 0)
			return fail("cannot list recovery points", rc);
		for (i = 0; i < n; i++) {
			char when[32];
			time_t t = (time_t)pts[i]->backup_time;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
			if (pts[i]->damaged) {
				printf("%s  %s  DAMAGED: %s\n", pts[i]->id, when, pts[i]->problem);
				fprintf(stderr, "obagent: warning: recovery point %s is damaged (%s): nothing can be restored from it; "
					"test-point %s reports it\n", pts[i]->id, pts[i]->problem, pts[i]->id);
				continue;
			}
			if (pts[i]->sealed) {
				printf("%s  %s  SEALED\n", pts[i]->id, when);
				fprintf(stderr, "obagent: warning: recovery point %s: %s\n", pts[i]->id, pts[i]->problem);
				continue;
			}
			if (pts[i]->problem)
				fprintf(stderr, "obagent: warning: recovery point %s: %s\n", pts[i]->id, pts[i]->problem);
			printf("%s  %s  %llu files  %llu bytes  [%s] ids [%s]\n", pts[i]->id, when,
				(unsigned long long)pts[i]->files, (unsigned long long)pts[i]->bytes, pts[i]->datasources,
				pts[i]->datasource_ids);
		}
		ob_recovery_points_free(pts, n);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "service")) {
		/*
		 * The scheduler (ob_service_run): runs the backups the policy's schedule asks for, with
		 * nobody logged in (samples/obagent.service; on Windows the service that
		 * samples/Install-OBAgentService.ps1 installs). --once: one step and exit; --wait: with
		 * --once, wait for the started job to end.
		 */
		unsigned int flags = (flag(argc, argv, "--once") ? OB_SERVICE_ONCE : 0) |
			(flag(argc, argv, "--wait") ? OB_SERVICE_WAIT : 0);
		ob_service_events ev = { service_started, service_ended, service_failed, NULL };
		return ob_service_run(NULL, flags, &ev) < 0 ? 1 : 0;
	}
	if (!strcmp(cmd, "maintenance")) {
		ob_agent *a = open_agent();
		ob_maintenance_options o = OB_MAINTENANCE_OPTIONS_INIT;
		ob_maintenance_report *r = NULL;
		const char *grace = opt(argc, argv, "--grace");
		if (grace)
			o.grace_seconds = atoll(grace);
		o.owner_key = owner_key;
		if ((rc = ob_maintenance_run(&r, a, &o)) < 0)
			return fail("maintenance", rc);
		printf("purged %llu points, marked %llu packs, deleted %llu packs, repacked %llu packs, reclaimed %llu bytes; "
			"%llu bytes in use\n", (unsigned long long)r->points_purged, (unsigned long long)r->packs_marked,
			(unsigned long long)r->packs_deleted, (unsigned long long)r->packs_repacked,
			(unsigned long long)r->bytes_reclaimed, (unsigned long long)r->bytes_in_use);
		if (r->objects_skipped)
			fprintf(stderr, "obagent: warning: %llu vault objects were not genuine or did not open (skipped, removed or "
				"replaced), listed below.\n", (unsigned long long)r->objects_skipped);
		if (r->version >= 2 && r->warnings[0]) {
			char *line = r->warnings, *nl;
			for (; line && *line; line = nl ? nl + 1 : NULL) {
				if ((nl = strchr(line, '\n')))
					*nl = '\0';
				fprintf(stderr, "obagent: warning: %s\n", line);
			}
		}
		free(r);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "delete-point")) {
		ob_agent *a = open_agent();
		const char *point = NULL;
		int i;
		for (i = 0; i < argc && !point; i++) {
			if (!strcmp(argv[i], "--pin"))
				i++;
			else
				point = argv[i];
		}
		if (!point)
			return usage();
		if ((rc = ob_recovery_point_remove(a, point, "deleted by the administrator", opt(argc, argv, "--pin"))) < 0)
			return fail("cannot delete the recovery point", rc);
		ob_agent_free(a);
		return 0;
	}
	if (!strcmp(cmd, "test-point")) {
		ob_agent *a = open_agent();
		ob_recovery *rec = NULL;
		char *report = NULL;
		uint64_t objects = 0;
		if (argc < 1)
			return usage();
		if ((rc = ob_recovery_open(&rec, a, NULL, NULL, 0)) < 0)
			return fail("cannot open the recovery points", rc);
		rc = ob_recovery_test(&report, &objects, rec, argv[0]);
		printf("%llu objects checked\n%s", (unsigned long long)objects, report ? report : "");
		ob_str_free(report);
		{
			/* Objects skipped on the way (damaged or forged index objects) fail nothing: warnings. */
			char *warnings = NULL;
			if (ob_recovery_warnings(&warnings, rec) == 0 && warnings && *warnings)
				fprintf(stderr, "warning: vault objects skipped:\n%s", warnings);
			ob_str_free(warnings);
		}
		ob_recovery_free(rec);
		ob_agent_free(a);
		if (rc < 0)
			return fail("the recovery point is damaged", rc);
		printf("The recovery point is healthy.\n");
		return 0;
	}
	if (!strcmp(cmd, "usage")) {
		ob_agent *a = open_agent();
		uint64_t bytes = 0;
		if ((rc = ob_machine_usage(&bytes, a)) < 0)
			return fail("cannot measure usage", rc);
		printf("%llu\n", (unsigned long long)bytes);
		ob_agent_free(a);
		return 0;
	}
	return usage();
}

#ifdef _WIN32
/*
 * Windows hands a program its arguments as UTF-16 (wmain, linked with -municode);
 * the engine takes UTF-8, so they are converted once here, and the console is
 * told that what is printed is UTF-8.
 */
int wmain(int argc, wchar_t **wargv)
{
	char **argv = calloc((size_t)argc + 1, sizeof(char *));
	int i;

	if (!argv)
		return 1;
	for (i = 0; i < argc; i++) {
		int n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
		if (n <= 0 || !(argv[i] = malloc((size_t)n)))
			return 1;
		WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], n, NULL, NULL);
	}
	SetConsoleOutputCP(CP_UTF8);
	return main(argc, argv);
}
#endif
