/*
 * System State capture: a fake root gives the documented layout, metadata and
 * a well-formed manifest; the staging folder is emptied first and a foreign
 * folder is refused; unreadable files are reported, not fatal; the real root
 * can be captured with the tools run.
 *
 * "test_systemstate --capture <dir>" captures the real machine into dir and
 * exits (used by tests/systemstate/test_reapply.sh).
 */
#define _GNU_SOURCE
#include "testutil.h"
#include "obagent/systemstate.h"
#include "platform/platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

static char *dir, *root, *staging;

static void put(const char *rel, const char *text, mode_t mode)
{
	char *p = ob_test_path(root, rel), *slash = strrchr(p, '/');

	*slash = '\0';
	assert_ok(ob_platform_mkdir_p(p, 0755));
	*slash = '/';
	ob_test_write(p, text, strlen(text));
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static char *stage_read(const char *rel)
{
	char *p = ob_test_path(staging, rel), *data;

	data = ob_test_read(p, NULL);
	free(p);
	return data;
}

static int stage_exists(const char *rel)
{
	char *p = ob_test_path(staging, rel);
	struct stat st;
	int r = lstat(p, &st) == 0;

	free(p);
	return r;
}

/* Run python3 over manifest.json with the given assertions; 0 when they hold, 77 without python3. */
static int check_manifest(const char *staging_dir, const char *asserts)
{
	char cmd[4096];
	int rc;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return 77;
	snprintf(cmd, sizeof(cmd),
		"python3 -c 'import json,sys; m=json.load(open(sys.argv[1], encoding=\"utf-8\")); "
		"items=[c[\"item\"] for c in m[\"captured\"]]; gone=[u[\"item\"] for u in m[\"unavailable\"]]; %s' '%s/manifest.json'",
		asserts, staging_dir);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void build_fake_root(void)
{
	char *p, *q;
	struct timeval tv[2] = { { 1000000000, 0 }, { 1000000000, 0 } };

	put("etc/hostname", "fakehost\n", 0644);
	put("etc/os-release", "# comment\nNAME=\"Fake Linux\"\nID=fakelinux\nVERSION_ID=\"7\"\n"
		"PRETTY_NAME=\"Fake \\\"Linux\\\" 7 \\\\ tab\there\"\n", 0644);
	put("etc/passwd", "root:x:0:0:root:/root:/bin/bash\n", 0644);
	put("etc/group", "root:x:0:\n", 0644);
	put("etc/shadow", "root:*:19000:0:99999:7:::\n", 0640);
	put("etc/gshadow", "root:*::\n", 0640);
	put("etc/fstab", "/dev/vda1 / ext4 defaults 0 1\n", 0644);
	put("etc/app/conf.d/main.conf", "key = value\n", 0751);
	put("etc/hosts", "127.0.0.1 localhost\n", 0644);
	put("var/spool/cron/crontabs/root", "0 2 * * * /bin/true\n", 0600);
	put("boot/grub/grub.cfg", "menuentry 'Fake' {}\n", 0644);
	put("proc/cmdline", "BOOT_IMAGE=/vmlinuz root=/dev/vda1\n", 0444);
	put("proc/mounts", "/dev/vda1 / ext4 rw,relatime 0 0\n/dev/vdb1 /mnt/with\\040space xfs ro 0 0\n", 0444);
	put("sys/block/vda/size", "2097152\n", 0444);
	put("sys/block/vda/removable", "0\n", 0444);
	put("sys/block/vda/device/model", "Fake Disk  \n", 0444);
	p = ob_test_path(root, "etc/link");
	assert_int_equal(symlink("app/conf.d/main.conf", p), 0);
	free(p);
	p = ob_test_path(root, "etc/fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = ob_test_path(root, "etc/app/conf.d/main.conf");
	assert_int_equal(utimes(p, tv), 0);
	setxattr(p, "user.obagent", "x1", 2, 0);  /* when the file system allows user xattrs */
	free(p);
	q = ob_test_path(root, "etc/app");
	assert_int_equal(chmod(q, 0550), 0);  /* a folder without write permission */
	free(q);
}

static int setup(void **state)
{
	(void)state;
	dir = ob_test_tempdir("systemstate");
	root = ob_test_path(dir, "root");
	staging = ob_test_path(dir, "staging");
	assert_int_equal(mkdir(root, 0755), 0);
	build_fake_root();
	return 0;
}

static int teardown(void **state)
{
	char *p = ob_test_path(root, "etc/app");

	(void)state;
	chmod(p, 0755);
	free(p);
	p = ob_test_path(staging, "etc/app");
	chmod(p, 0755);
	free(p);
	ob_test_rmtree(dir);
	free(dir);
	free(root);
	free(staging);
	return 0;
}

static void capture_fake(char **report)
{
	ob_systemstate_options o = OB_SYSTEMSTATE_OPTIONS_INIT;

	o.source_root = root;
	o.run_commands = 0;
	assert_ok(ob_systemstate_capture(report, staging, &o));
}

static void test_fake_root_gives_the_layout(void **state)
{
	char *report = NULL, *text, *p, target[256];
	struct stat st;
	ssize_t n;
	int rc;

	(void)state;
	capture_fake(&report);
	assert_non_null(report);
	if (getuid() == 0)
		assert_string_equal(report, "");
	ob_str_free(report);

	assert_int_equal(stat(staging, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	text = stage_read("etc/hostname");
	assert_string_equal(text, "fakehost\n");
	free(text);
	/* A link stays a link. */
	p = ob_test_path(staging, "etc/link");
	n = readlink(p, target, sizeof(target) - 1);
	free(p);
	assert_true(n > 0);
	target[n] = '\0';
	assert_string_equal(target, "app/conf.d/main.conf");
	/* Modes and times are kept; folders too; a fifo is left out. */
	p = ob_test_path(staging, "etc/app/conf.d/main.conf");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	assert_int_equal((long long)st.st_mtime, 1000000000LL);
	{
		char v[8];
		char *src = ob_test_path(root, "etc/app/conf.d/main.conf");
		if (getxattr(src, "user.obagent", v, sizeof(v)) == 2)
			assert_int_equal(getxattr(p, "user.obagent", v, sizeof(v)), 2);
		free(src);
	}
	free(p);
	p = ob_test_path(staging, "etc/app");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0550);
	free(p);
	p = ob_test_path(staging, "etc/shadow");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	free(p);
	assert_false(stage_exists("etc/fifo"));
	/* The other parts. */
	assert_true(stage_exists("accounts/passwd"));
	assert_true(stage_exists("accounts/shadow"));
	assert_true(stage_exists("accounts/gshadow"));
	assert_true(stage_exists("cron/spool/crontabs/root"));
	text = stage_read("boot/grub.cfg");
	assert_string_equal(text, "menuentry 'Fake' {}\n");
	free(text);
	text = stage_read("boot/cmdline");
	assert_string_equal(text, "BOOT_IMAGE=/vmlinuz root=/dev/vda1\n");
	free(text);
	assert_true(stage_exists("network/hostname"));
	assert_true(stage_exists("network/hosts"));
	assert_false(stage_exists("network/resolv.conf"));
	assert_true(stage_exists("packages"));
	assert_true(stage_exists("systemd"));
	assert_true(stage_exists("unreadable.tsv"));
	assert_true(stage_exists(".obagent-systemstate"));

	rc = check_manifest(staging,
		"assert m[\"format\"] == \"obagent-systemstate\" and m[\"format_version\"] == 1; "
		"assert m[\"host_name\"] == \"fakehost\"; "
		"assert m[\"os_release\"][\"ID\"] == \"fakelinux\" and m[\"os_release\"][\"VERSION_ID\"] == \"7\"; "
		"assert m[\"os_release\"][\"PRETTY_NAME\"] == \"Fake \\\"Linux\\\" 7 \\\\ tab\\there\", m[\"os_release\"]; "
		"assert m[\"mounts\"][1][\"mount_point\"] == \"/mnt/with space\"; "
		"assert m[\"disks\"] == [{\"name\": \"vda\", \"size_bytes\": 1073741824, \"removable\": False, \"read_only\": False, \"model\": \"Fake Disk\"}], m[\"disks\"]; "
		"assert m[\"commands_run\"] is False and m[\"kernel\"][\"name\"] == \"Linux\"; "
		"assert m[\"capture_time\"] == \"2024-05-06T07:08:09Z\" and m[\"capture_time_unix\"] == 1714979289; "
		"assert \"etc\" in items and \"accounts/shadow\" in items and \"cron/spool\" in items and \"boot/grub.cfg\" in items, items; "
		"assert \"network/resolv.conf\" in gone and \"packages/dpkg.tsv\" not in items, gone; "
		"assert m[\"unreadable_count\"] == (0 if m[\"owners_preserved\"] else m[\"unreadable_count\"])");
	if (rc == 77)
		print_message("python3 missing: manifest.json not parsed\n");
	else
		assert_int_equal(rc, 0);
}

static void test_staging_is_emptied_first(void **state)
{
	char *p;

	(void)state;
	capture_fake(NULL);
	/* Leftovers of an earlier capture, including a read-only folder, are removed. */
	p = ob_test_path(staging, "leftover");
	ob_test_write(p, "old", 3);
	free(p);
	p = ob_test_path(staging, "old-dir");
	assert_int_equal(mkdir(p, 0700), 0);
	free(p);
	p = ob_test_path(staging, "old-dir/file");
	ob_test_write(p, "old", 3);
	free(p);
	p = ob_test_path(staging, "old-dir");
	assert_int_equal(chmod(p, 0500), 0);
	free(p);
	capture_fake(NULL);
	assert_false(stage_exists("leftover"));
	assert_false(stage_exists("old-dir"));
	assert_true(stage_exists("etc/hostname"));
	assert_true(stage_exists("manifest.json"));
}

static void test_refuses_what_it_must_not_touch(void **state)
{
	ob_systemstate_options o = OB_SYSTEMSTATE_OPTIONS_INIT;
	char *foreign = ob_test_path(dir, "foreign"), *keep = ob_test_path(foreign, "precious"), *report = (char *)1;

	(void)state;
	o.source_root = root;
	o.run_commands = 0;
	assert_int_equal(mkdir(foreign, 0755), 0);
	ob_test_write(keep, "keep me", 7);
	assert_ob(OB_EEXISTS, ob_systemstate_capture(&report, foreign, &o));
	assert_null(report);
	assert_non_null(strstr(ob_error_last(), "not empty"));
	assert_int_equal(access(keep, F_OK), 0);
	assert_ob(OB_EINVALID, ob_systemstate_capture(NULL, "relative/dir", &o));
	assert_ob(OB_EINVALID, ob_systemstate_capture(NULL, "/", &o));
	assert_ob(OB_EINVALID, ob_systemstate_capture(NULL, root, &o));
	o.version = 99;
	assert_ob(OB_EINVALID, ob_systemstate_capture(NULL, staging, &o));
	o.version = OB_SYSTEMSTATE_OPTIONS_VERSION;
	o.source_root = "not/absolute";
	assert_ob(OB_EINVALID, ob_systemstate_capture(NULL, staging, &o));
	unlink(keep);
	rmdir(foreign);
	free(keep);
	free(foreign);
}

/* Capture a root with a file this user cannot read: 0 and a report line. Returns a failure step or 0. */
static int capture_with_unreadable(const char *base)
{
	ob_systemstate_options o = OB_SYSTEMSTATE_OPTIONS_INIT;
	char *r = ob_test_path(base, "r"), *etc = ob_test_path(r, "etc"), *secret = ob_test_path(etc, "secret"),
	     *open_file = ob_test_path(etc, "open"), *st = ob_test_path(base, "staging"), *report = NULL, *copy;
	int rc;

	o.source_root = r;
	o.run_commands = 0;
	rc = ob_systemstate_capture(&report, st, &o);
	if (rc != 0) {
		fprintf(stderr, "capture: %d %s\n", rc, ob_error_last());
		return 1;
	}
	if (!strstr(report, "/etc/secret\tcannot open: Permission denied") || strstr(report, "/etc/open"))
		return fprintf(stderr, "report: %s\n", report), 2;
	copy = ob_test_path(st, "unreadable.tsv");
	{
		char *tsv = ob_test_read(copy, NULL);
		int same = strcmp(tsv, report) == 0;
		free(tsv);
		if (!same)
			return 3;
	}
	free(copy);
	copy = ob_test_path(st, "etc/open");
	if (access(copy, F_OK) != 0)
		return 4;
	free(copy);
	copy = ob_test_path(st, "etc/secret");
	if (access(copy, F_OK) == 0)
		return 5;
	free(copy);
	if (check_manifest(st, "assert m[\"unreadable_count\"] == 1") % 77 != 0)
		return 6;
	ob_str_free(report);
	free(r), free(etc), free(secret), free(open_file), free(st);
	return 0;
}

static void make_unreadable_root(const char *base)
{
	char *r = ob_test_path(base, "r"), *etc = ob_test_path(r, "etc"), *p;

	assert_int_equal(mkdir(r, 0755), 0);
	assert_int_equal(mkdir(etc, 0755), 0);
	p = ob_test_path(etc, "secret");
	ob_test_write(p, "root only", 9);
	assert_int_equal(chmod(p, 0000), 0);
	free(p);
	p = ob_test_path(etc, "open");
	ob_test_write(p, "anyone", 6);
	assert_int_equal(chmod(p, 0644), 0);
	free(p);
	free(r);
	free(etc);
}

static void test_unreadable_file_is_reported_not_fatal(void **state)
{
	char *base = ob_test_path(dir, "unreadable");
	pid_t pid;
	int status;

	(void)state;
	assert_int_equal(mkdir(base, 0777), 0);
	assert_int_equal(chmod(base, 0777), 0);
	make_unreadable_root(base);
	if (getuid() != 0) {
		assert_int_equal(capture_with_unreadable(base), 0);
		free(base);
		return;
	}
	/* Root reads everything: capture as 'nobody'. */
	assert_int_equal(chmod(dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(10);
		_exit(capture_with_unreadable(base));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(base);
}

static void test_real_root_with_commands(void **state)
{
	char *st = ob_test_path(dir, "real"), *report = NULL;
	int rc;

	(void)state;
	/* Default options: the running system, tools run. */
	assert_ok(ob_systemstate_capture(&report, st, NULL));
	ob_str_free(report);
	rc = check_manifest(st,
		"import os; "
		"assert m[\"source_root\"] == \"/\" and m[\"commands_run\"] is True; "
		"assert m[\"os_release\"] and m[\"host_name\"] and m[\"mounts\"]; "
		"assert \"etc\" in items; "
		"dpkg = os.path.exists(\"/var/lib/dpkg/status\") and os.path.exists(\"/usr/bin/dpkg-query\"); "
		"assert (not dpkg) or \"packages/dpkg.tsv\" in items, (items, gone); "
		"assert (not dpkg) or os.path.getsize(sys.argv[1].replace(\"manifest.json\", \"packages/dpkg.tsv\")) > 0; "
		"sc = os.path.exists(\"/usr/bin/systemctl\") or os.path.exists(\"/bin/systemctl\"); "
		"assert (not sc) or \"systemd/unit-files.txt\" in items, (items, gone); "
		"assert (os.geteuid() != 0) or m[\"unreadable_count\"] == 0; "
		"assert all(\"reason\" in u for u in m[\"unavailable\"])");
	if (rc == 77)
		print_message("python3 missing: manifest.json not parsed\n");
	else
		assert_int_equal(rc, 0);
	if (getuid() == 0) {
		char *p = ob_test_path(st, "accounts/shadow");
		assert_int_equal(access(p, R_OK), 0);
		free(p);
	}
	ob_test_rmtree(st);
	free(st);
}

static int capture_main(const char *target)
{
	char *report = NULL;
	int rc;

	ob_init();
	rc = ob_systemstate_capture(&report, target, NULL);
	if (rc < 0) {
		fprintf(stderr, "capture failed: %s (%s)\n", ob_error_last(), ob_error_name(rc));
		return 1;
	}
	if (report && report[0])
		fprintf(stderr, "could not read:\n%s", report);
	ob_str_free(report);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fake_root_gives_the_layout),
		cmocka_unit_test(test_staging_is_emptied_first),
		cmocka_unit_test(test_refuses_what_it_must_not_touch),
		cmocka_unit_test(test_unreadable_file_is_reported_not_fatal),
		cmocka_unit_test(test_real_root_with_commands),
	};

	if (argc == 3 && strcmp(argv[1], "--capture") == 0)
		return capture_main(argv[2]);
	ob_init();
	ob_env_set("OBAGENT_NOW", "2024-05-06T07:08:09Z");
	return cmocka_run_group_tests(tests, setup, teardown);
}
