/*
 * obagent: System State capture.
 *
 * MARS protects a Windows server's "System State" (registry, boot files,
 * COM+ database, Active Directory, SYSVOL, ...) by running Windows Server
 * Backup's system state backup into a staging area of its scratch folder, then
 * backing that staging area up like files. obagent does the same in two steps:
 *
 *   1. ob_systemstate_capture() writes a capture of the machine's configuration
 *      into a staging folder (inside the agent's state folder);
 *   2. the backup job protects that folder like any file data source: it is
 *      chunked, compressed and encrypted in the vault like all data.
 *
 * Restore is also two steps, as in MARS: restore the capture as files
 * (Start-OBRecovery), then re-apply it (samples/Restore-SystemState.sh on
 * Linux; wbadmin start systemstaterecovery on Windows). docs/SYSTEMSTATE.md.
 *
 * What a capture holds depends on the platform:
 *
 *  - Linux (native/platform/systemstate_linux.c): a copy of /etc, the installed
 *    packages and their sources, systemd unit-file states, crontabs and timers,
 *    boot configuration, accounts, network configuration, and manifest.json
 *    (host, OS release, kernel, disks, mounts, what was and was not captured).
 *
 *  - Windows (a systemstate_windows.c implementing the same internal entry
 *    point): Windows Server Backup's own system state backup, made by running
 *    "wbadmin start systemstatebackup -backupTarget:<volume> -quiet" against a
 *    volume in the staging folder (MARS uses a VHD mounted from Scratch\SSBV),
 *    which leaves WindowsImageBackup\<host>\... there; plus the same
 *    manifest.json. Windows Server Backup takes its own VSS snapshot, so the
 *    capture is consistent at one moment.
 *
 * The staging folder and the layout of a capture are described in
 * docs/SYSTEMSTATE.md; manifest.json carries "format_version".
 */
#ifndef OBAGENT_SYSTEMSTATE_H
#define OBAGENT_SYSTEMSTATE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The version of the capture layout written in manifest.json ("format_version"). */
#define OB_SYSTEMSTATE_FORMAT_VERSION 1

typedef struct ob_systemstate_options {
	unsigned int version;
	/**
	 * The root of the system to capture: "/" (the default; NULL means "/").
	 * Another folder captures a system image mounted there (tests use a fake
	 * root). With a root other than "/", commands that only describe the
	 * running system (ip, systemctl list-timers) are not run and package
	 * databases are read under the root (dpkg --admindir, rpm --root).
	 */
	const char *source_root;
	/** 1: run the external tools (dpkg-query, rpm, systemctl, ip); 0: files only. */
	int run_commands;
} ob_systemstate_options;

#define OB_SYSTEMSTATE_OPTIONS_VERSION 1
#define OB_SYSTEMSTATE_OPTIONS_INIT { OB_SYSTEMSTATE_OPTIONS_VERSION, "/", 1 }

/**
 * Capture the System State of this machine into staging_dir.
 *
 * staging_dir (absolute) is created with mode 0700 when absent and emptied
 * first. To guard against emptying the wrong folder, a folder that is not
 * empty must hold the marker ".obagent-systemstate" that every capture
 * writes; otherwise OB_EEXISTS and nothing is touched.
 *
 * A file that cannot be read is not fatal: it is left out and listed in
 * *out_report as "path<TAB>reason" lines (the path on the captured system),
 * and the same lines are kept in the capture as unreadable.tsv. A missing
 * tool (no rpm on Debian, no systemd in a container) is not an error either:
 * manifest.json lists it under "unavailable".
 *
 * out_report: receives the report (possibly ""), the caller frees it with
 *   ob_str_free; may be NULL when not wanted.
 * opts: NULL for the defaults (OB_SYSTEMSTATE_OPTIONS_INIT).
 *
 * Returns 0 when the capture was made (even with unreadable files), or
 * OB_EINVALID (bad arguments), OB_EEXISTS (see above), OB_EACCESS, OB_ENOSPC,
 * OB_EIO when the staging folder cannot be prepared or written.
 *
 * Runs child processes (fork/exec, no shell). Any thread; one capture per
 * staging folder at a time (the caller holds the job lock).
 */
OB_EXTERN(int) ob_systemstate_capture(char **out_report, const char *staging_dir, const ob_systemstate_options *opts);

#ifdef __cplusplus
}
#endif
#endif
