/*
 * System State capture, the portable half: arguments, the staging folder,
 * the report and manifest.json. What is captured is platform code behind
 * platform/systemstate.h (platform/systemstate_linux.c). docs/SYSTEMSTATE.md.
 */
#include "obagent/systemstate.h"
#include "platform/systemstate.h"
#include "util/error.h"
#include "util/env.h"
#include "platform/file.h"
#include "platform/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MARKER ".obagent-systemstate"

static const char *platform_name(void)
{
#if defined(_WIN32)
	return "windows";
#elif defined(__linux__)
	return "linux";
#else
	return "posix";
#endif
}

/* Create the staging folder 0700, or empty it when it holds an earlier capture. */
static int prepare_staging(ob_ss *ss, const char *dir)
{
	ob_file_info st;
	char *marker = NULL;
	int error;

	if (ob_file_stat_path(&st, dir, 0) < 0) {
		if (ob_platform_failure() != OB_FAILURE_ABSENT)
			return ob_platform_fail("Cannot examine the System State staging folder", dir);
		if ((error = ob_platform_mkdir_p(dir, 0700)) < 0)
			return error;
	} else if (st.type != OB_FILE_DIR) {
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The System State staging folder '%s' exists and is not a folder (a link or a file).", dir);
	} else {
		error = ob_platform_dir_is_empty(dir);
		if (error < 0)
			return error;
		if (error == 0) {
			if (!(marker = ob_platform_join(dir, MARKER)))
				return OB_ENOMEM;
			if (ob_file_stat_path(&st, marker, 0) < 0 || st.type != OB_FILE_REGULAR) {
				free(marker);
				return ob_err(OB_EEXISTS, OB_ERRCLASS_INVALID,
					"The System State staging folder '%s' is not empty and holds no earlier capture "
					"(no " MARKER " file): it is left untouched. Choose an empty or new folder.", dir);
			}
			free(marker);
			marker = NULL;
			if ((error = ob_systemstate_platform_empty(dir)) < 0)
				return error;
		}
	}
	if (ob_file_chmod(dir, 0700) < 0)
		return ob_platform_fail("Cannot restrict the System State staging folder", dir);
	if (ob_file_stat_path(&st, dir, 1) < 0)
		return ob_platform_fail("Cannot examine the System State staging folder", dir);
	ss->staging_dev = (unsigned long long)st.dev;
	ss->staging_ino = (unsigned long long)st.ino;
	if (!(marker = ob_platform_join(dir, MARKER)))
		return OB_ENOMEM;
	error = ob_platform_write_file_nosync(marker, "obagent System State capture\n", 29, 0600);
	free(marker);
	return error;
}

static int write_staging_file(ob_ss *ss, const char *name, const char *data, size_t len)
{
	char *path = ob_platform_join(ss->staging, name);
	int error;

	if (!path)
		return OB_ENOMEM;
	error = ob_platform_write_file_nosync(path, data, len, 0600);
	free(path);
	return error;
}

static int write_manifest(ob_ss *ss, int64_t now)
{
	ob_buf m = OB_BUF_INIT;
	char when[21];
	int error;

	ob_time_format_utc(when, now);
	if ((error = ob_buf_printf(&m, "{\n  \"format\": \"obagent-systemstate\",\n  \"format_version\": %d,\n"
		"  \"platform\": \"%s\",\n  \"capture_time\": \"%s\",\n  \"capture_time_unix\": %lld,\n  \"source_root\": ",
		OB_SYSTEMSTATE_FORMAT_VERSION, platform_name(), when, (long long)now)) < 0 ||
	    (error = ob_json_put_str(&m, ss->root[0] ? ss->root : "/")) < 0 ||
	    (error = ob_buf_printf(&m, ",\n  \"commands_run\": %s", ss->run_commands ? "true" : "false")) < 0 ||
	    (error = ob_buf_put(&m, ss->fields.data ? ss->fields.data : "", ss->fields.len)) < 0 ||
	    (error = ob_buf_puts(&m, ",\n  \"captured\": [")) < 0 ||
	    (error = ob_buf_put(&m, ss->captured.data ? ss->captured.data : "", ss->captured.len)) < 0 ||
	    (error = ob_buf_puts(&m, ss->captured.len ? "\n  ],\n  \"unavailable\": [" : "],\n  \"unavailable\": [")) < 0 ||
	    (error = ob_buf_put(&m, ss->unavailable.data ? ss->unavailable.data : "", ss->unavailable.len)) < 0 ||
	    (error = ob_buf_printf(&m, "%s,\n  \"unreadable_count\": %zu,\n  \"unreadable_list\": \"unreadable.tsv\"\n}\n",
		ss->unavailable.len ? "\n  ]" : "]", ss->unreadable)) < 0)
		goto done;
	error = write_staging_file(ss, "manifest.json", m.data, m.len);
done:
	ob_buf_dispose(&m);
	return error;
}

/* "/" -> "", "/a/b/" -> "/a/b"; NULL when not absolute. */
static char *normalise_dir(const char *path)
{
	size_t n;
	char *out;

	if (!path || path[0] != '/')
		return NULL;
	n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n == 1)
		n = 0;
	if (!(out = malloc(n + 1)))
		return NULL;
	memcpy(out, path, n);
	out[n] = '\0';
	return out;
}

OB_EXTERN(int) ob_systemstate_capture(char **out_report, const char *staging_dir, const ob_systemstate_options *opts)
{
	ob_systemstate_options defaults = OB_SYSTEMSTATE_OPTIONS_INIT;
	ob_ss ss;
	char *root = NULL, *staging = NULL;
	int64_t now = 0;
	int error;

	if (out_report)
		*out_report = NULL;
	if (!opts)
		opts = &defaults;
	if (opts->version < 1 || opts->version > OB_SYSTEMSTATE_OPTIONS_VERSION)
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"ob_systemstate_options version %u is not supported (this library knows 1 to %d).",
			opts->version, OB_SYSTEMSTATE_OPTIONS_VERSION);
	if (!staging_dir || !staging_dir[0] || staging_dir[0] != '/')
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The System State staging folder must be an absolute path (got '%s').", staging_dir ? staging_dir : "");
	if (opts->source_root && opts->source_root[0] && opts->source_root[0] != '/')
		return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The System State source root must be an absolute path (got '%s').", opts->source_root);
	if ((error = ob_clock_now(&now)) < 0)
		return error;

	memset(&ss, 0, sizeof(ss));
	root = normalise_dir(opts->source_root && opts->source_root[0] ? opts->source_root : "/");
	staging = normalise_dir(staging_dir);
	if (!root || !staging) {
		error = ob_err_nomem();
		goto done;
	}
	if (!staging[0] || strcmp(staging, root) == 0) {
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
			"The System State staging folder '%s' cannot be the root folder or the source root.", staging_dir);
		goto done;
	}
	ss.root = root;
	ss.is_live = root[0] == '\0';
	ss.run_commands = opts->run_commands != 0;
	ss.staging = staging;

	if ((error = prepare_staging(&ss, staging)) < 0 ||
	    (error = ob_systemstate_platform_capture(&ss)) < 0 ||
	    (error = write_staging_file(&ss, "unreadable.tsv", ss.report.data ? ss.report.data : "", ss.report.len)) < 0 ||
	    (error = write_manifest(&ss, now)) < 0)
		goto done;
	if (out_report) {
		*out_report = ss.report.data ? ob_buf_detach(&ss.report) : ob_strdup("");
		if (!*out_report)
			error = OB_ENOMEM;
	}
done:
	ob_buf_dispose(&ss.report);
	ob_buf_dispose(&ss.captured);
	ob_buf_dispose(&ss.unavailable);
	ob_buf_dispose(&ss.fields);
	free(root);
	free(staging);
	return error;
}
