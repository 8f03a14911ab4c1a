#define _XOPEN_SOURCE 700
#include "testutil.h"
#include "platform/file.h"
#include "platform/platform.h"
#include "vault/crypto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Folders are made and removed through the engine's platform layer, so that the
 * same helpers serve the POSIX build and the Windows lane (docs/WINDOWS.md).
 */
char *ob_test_tempdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	uint8_t rnd[6];
	char hex[13], path[512];

#ifdef _WIN32
	if (!base || !*base)
		base = getenv("TEMP");
#endif
	assert_ok(ob_random(rnd, sizeof(rnd)));
	ob_hex_encode(hex, rnd, sizeof(rnd));
	snprintf(path, sizeof(path), "%s/obagent-%s-%s", base && *base ? base : "/tmp", tag, hex);
	assert_ok(ob_platform_mkdir_p(path, 0700));
	/* The engine's form ("/C:/Users/x/Temp/..." on Windows, the path as it is on POSIX), the form it
	 * stores and reports, so that tests compare what they gave with what comes back. */
	return ob_platform_path_internal(path);
}

/* Remove everything in the open folder dir, depth first, never following a link. */
static void rm_in(ob_file *dir)
{
	ob_dir *d = NULL;
	const char *name;
	char **names = NULL;
	size_t n = 0, i;

	if (ob_dir_open_file(&d, dir) < 0)
		return;
	while (ob_dir_next(d, &name)) {
		char **grown = realloc(names, (n + 1) * sizeof(*names));
		assert_non_null(grown);
		names = grown;
		assert_non_null(names[n++] = strdup(name));
	}
	ob_dir_close(d);
	for (i = 0; i < n; i++) {
		ob_file_info st;
		ob_file *sub = NULL;
		if (ob_file_stat_at(&st, dir, names[i]) == 0 && st.type == OB_FILE_DIR &&
		    ob_file_open_dir_at(&sub, dir, names[i]) == 0) {
			rm_in(sub);
			ob_file_close(sub);
			ob_file_remove_at(dir, names[i], 1);
		} else {
			ob_file_remove_at(dir, names[i], 0);
		}
		free(names[i]);
	}
	free(names);
	ob_error_clear();
}

void ob_test_rmtree(const char *path)
{
	ob_file *dir = NULL;
	char *parent, *slash;

	if (!path || ob_file_open_dir(&dir, path) < 0)
		return;
	rm_in(dir);
	ob_file_close(dir);
	/* The folder itself, from its parent. */
	parent = strdup(path);
	assert_non_null(parent);
	slash = strrchr(parent, '/');
#ifdef _WIN32
	if (!slash || (strrchr(parent, '\\') && strrchr(parent, '\\') > slash))
		slash = strrchr(parent, '\\');
#endif
	if (slash && slash != parent) {
		*slash = '\0';
		if (ob_file_open_dir(&dir, parent) == 0) {
			ob_file_remove_at(dir, slash + 1, 1);
			ob_file_close(dir);
		}
	}
	free(parent);
	ob_error_clear();
}

const char *ob_test_rel(const char *path)
{
#ifdef _WIN32
	/* "/C:/x" is "x" in data source "/C:"; "/UNC/srv/share/x" is "x" in "/UNC/srv/share". */
	const char *p = path + 1;
	int parts = strncmp(path, "/UNC/", 5) == 0 ? 3 : 1;

	while (parts-- > 0 && (p = strchr(p, '/')))
		p++;
	return p ? p : path + strlen(path);
#else
	return path + 1;
#endif
}

char *ob_test_path(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", a, b);
	return p;
}

#ifdef _WIN32
/* Through the platform layer: it takes the engine's paths ("/C:/..."), which fopen does not. */
void ob_test_write(const char *path, const void *data, size_t len)
{
	assert_ok(ob_platform_write_file(path, data, len, 0644, 1));
}

char *ob_test_read(const char *path, size_t *len)
{
	char *buf = NULL;
	size_t n = 0;

	assert_ok(ob_platform_read_file(&buf, &n, path, (size_t)1 << 31));
	if (len)
		*len = n;
	return buf;
}
#else
/* In place, as a program rewrites a file (the file cache tests need the same inode). */
void ob_test_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

char *ob_test_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (len)
		*len = (size_t)n;
	return buf;
}
#endif

void ob_test_server_folders(ob_test_server *s, const char *tag)
{
	memset(s, 0, sizeof(*s));
	s->dir = ob_test_tempdir(tag);
	s->src = ob_test_path(s->dir, "src");
	s->vault_path = ob_test_path(s->dir, "vault");
	s->creds = ob_test_path(s->dir, "creds");
	assert_ok(ob_platform_mkdir_p(s->src, 0755));
}

void ob_test_server_register(ob_test_server *s, const char *home, const char *worker, const char *server_name,
	const char *vault_name, const char *passphrase)
{
	ob_vault *v;
	char *cred, *home_path = ob_test_path(s->dir, home);
	ob_filespec_input spec;
	ob_policy *policy;

	ob_env_set("OBAGENT_WORKER", worker);
	ob_env_set("OBAGENT_SERVER_NAME", server_name);
	ob_env_set("OBAGENT_NOW", NULL);
	assert_ok(ob_vault_create(&v, s->vault_path, vault_name));
	assert_ok(ob_vault_credentials_issue(&cred, v, s->creds, 10));
	assert_ok(ob_agent_open(&s->agent, home_path));
	assert_ok(ob_agent_register(NULL, s->agent, cred));
	assert_ok(ob_agent_set_passphrase(s->agent, (const uint8_t *)passphrase, strlen(passphrase), NULL));
	spec.spec = s->src;
	spec.is_exclude = 0;
	spec.is_recursive = 1;
	assert_ok(ob_policy_commit(&policy, s->agent, &spec, 1));
	ob_policy_free(policy);
	ob_str_free(cred);
	ob_vault_free(v);
	free(home_path);
}

void ob_test_server_dispose(ob_test_server *s)
{
	ob_agent_free(s->agent);
	ob_test_rmtree(s->dir);
	free(s->dir);
	free(s->src);
	free(s->vault_path);
	free(s->creds);
	memset(s, 0, sizeof(*s));
}

ob_job_info *ob_test_job_wait(ob_agent *a, ob_job_info *j)
{
	char *id = strdup(j->job_id);
	int i;

	assert_non_null(id);
	for (i = 0; i < 30000 && j->state == OB_JOB_INPROGRESS; i++) {
		ob_job_info_free(j);
		ob_platform_sleep_ms(20);
		assert_ok(ob_job_get(&j, a, id));
	}
	free(id);
	return j;
}

ob_job_info *ob_test_backup(ob_agent *a)
{
	ob_job_info *j = NULL;

	assert_ok(ob_backup_start(&j, a, 0));
	return ob_test_job_wait(a, j);
}

void ob_test_newest_point(ob_agent *a, char **point, int64_t *ds)
{
	ob_recovery_point **pts = NULL;
	size_t n = 0;

	assert_ok(ob_recovery_points(&pts, &n, a));
	assert_true(n >= 1);
	*point = strdup(pts[0]->id);
	*ds = strtoll(pts[0]->datasource_ids, NULL, 10);
	ob_recovery_points_free(pts, n);
}

#ifdef _WIN32
int ob_test_setenv(const char *name, const char *value, int overwrite)
{
	if (!overwrite && getenv(name))
		return 0;
	return _putenv_s(name, value) == 0 ? 0 : -1;
}

int ob_test_unsetenv(const char *name)
{
	/* An empty value removes the variable (Windows has no empty variables). */
	return _putenv_s(name, "") == 0 ? 0 : -1;
}

int ob_test_mkdir(const char *path, unsigned int mode)
{
	if (ob_platform_exists(path) == 1) {
		errno = EEXIST;
		return -1;
	}
	if (ob_platform_mkdir_p(path, mode) < 0) {
		ob_error_clear();
		errno = ENOENT;
		return -1;
	}
	return 0;
}

void *ob_test_memmem(const void *hay, size_t hay_len, const void *needle, size_t needle_len)
{
	const unsigned char *h = hay;
	size_t i;

	if (needle_len == 0)
		return (void *)h;
	for (i = 0; i + needle_len <= hay_len; i++)
		if (memcmp(h + i, needle, needle_len) == 0)
			return (void *)(h + i);
	return NULL;
}
#endif

#ifdef _WIN32
/* The parent folder of path (malloc'd) and where its last component starts. */
static char *split_parent(const char *path, const char **out_name)
{
	char *parent = strdup(path), *slash;

	assert_non_null(parent);
	slash = strrchr(parent, '/');
	if (!slash || (strrchr(parent, '\\') && strrchr(parent, '\\') > slash))
		slash = strrchr(parent, '\\');
	if (!slash || slash == parent) {
		free(parent);
		return NULL;
	}
	*slash = '\0';
	*out_name = path + (slash - parent) + 1;
	return parent;
}

int ob_test_unlink(const char *path)
{
	if (ob_file_remove(path) < 0) {
		ob_error_clear();
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int ob_test_rename(const char *from, const char *to)
{
	const char *from_name, *to_name;
	char *from_dir = split_parent(from, &from_name), *to_dir = split_parent(to, &to_name);
	ob_file *dir = NULL;
	int rc = -1;

	if (from_dir && to_dir && strcmp(from_dir, to_dir) == 0 && ob_file_open_dir(&dir, from_dir) == 0) {
		rc = ob_file_rename_at(dir, from_name, to_name) == 0 ? 0 : -1;
		ob_file_close(dir);
	}
	if (rc < 0) {
		print_message("rename %s -> %s: %s\n", from, to,
			from_dir && to_dir && strcmp(from_dir, to_dir) == 0 ? ob_error_last() : "not within one folder");
		ob_error_clear();
	}
	free(from_dir);
	free(to_dir);
	return rc;
}

static uint64_t bytes_in(ob_file *dir)
{
	ob_dir *d = NULL;
	const char *name;
	uint64_t total = 0;

	assert_ok(ob_dir_open_file(&d, dir));
	while (ob_dir_next(d, &name)) {
		ob_file_info st;
		ob_file *sub = NULL;
		assert_ok(ob_file_stat_at(&st, dir, name));
		if (st.type == OB_FILE_REGULAR) {
			total += st.size;
		} else if (st.type == OB_FILE_DIR) {
			assert_ok(ob_file_open_dir_at(&sub, dir, name));
			total += bytes_in(sub);
			ob_file_close(sub);
		}
	}
	ob_dir_close(d);
	return total;
}

uint64_t ob_test_tree_bytes(const char *path)
{
	ob_file *dir = NULL;
	uint64_t total;

	assert_ok(ob_file_open_dir(&dir, path));
	total = bytes_in(dir);
	ob_file_close(dir);
	return total;
}
#endif

#ifdef _WIN32
typedef struct find_ctx {
	const char *folder, *name;
	char *best;
	uint64_t best_size;
} find_ctx;

static void find_in(find_ctx *c, ob_file *dir, const char *path, int below)
{
	ob_dir *d = NULL;
	const char *name;

	if (ob_dir_open_file(&d, dir) < 0) {
		ob_error_clear();
		return;
	}
	while (ob_dir_next(d, &name)) {
		ob_file_info st;
		ob_file *sub = NULL;
		char *p = ob_test_path(path, name);
		if (ob_file_stat_at(&st, dir, name) < 0) {
			ob_error_clear();
		} else if (st.type == OB_FILE_DIR && ob_file_open_dir_at(&sub, dir, name) == 0) {
			find_in(c, sub, p, below || strcmp(name, c->folder) == 0);
			ob_file_close(sub);
		} else if (st.type == OB_FILE_REGULAR && below && (c->name ? strcmp(name, c->name) == 0
				: (!c->best || st.size > c->best_size))) {
			free(c->best);
			c->best = p;
			c->best_size = st.size;
			p = NULL;
		}
		free(p);
	}
	ob_dir_close(d);
}

char *ob_test_find_file(const char *root, const char *folder, const char *name)
{
	find_ctx c = { folder, name, NULL, 0 };
	ob_file *dir = NULL;

	assert_ok(ob_file_open_dir(&dir, root));
	find_in(&c, dir, root, 0);
	ob_file_close(dir);
	return c.best;
}

void ob_test_flip_byte(const char *path, int64_t at)
{
	char *buf = NULL;
	size_t n = 0;

	assert_ok(ob_platform_read_file(&buf, &n, path, (size_t)1 << 31));
	if (at < 0)
		at = (int64_t)(n / 2);
	assert_true((uint64_t)at < n);
	buf[at] = (char)(((unsigned char)buf[at] + 1) % 256);
	assert_ok(ob_platform_write_file(path, buf, n, 0644, 1));
	free(buf);
}

/* The sorted names of a folder (malloc'd array of malloc'd names). */
static char **names_of(const char *path, size_t *out_n)
{
	ob_dir *d = NULL;
	const char *name;
	char **v = NULL;
	size_t n = 0, i, j;

	assert_ok(ob_dir_open(&d, path));
	while (ob_dir_next(d, &name)) {
		char **grown = realloc(v, (n + 1) * sizeof(*v));
		assert_non_null(grown);
		v = grown;
		assert_non_null(v[n++] = strdup(name));
	}
	ob_dir_close(d);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(v[j - 1], v[j]) > 0; j--) {
			char *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	*out_n = n;
	return v;
}

static void names_free(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

void ob_test_copy_tree(const char *from, const char *to)
{
	size_t n, i;
	char **v = names_of(from, &n);

	assert_ok(ob_platform_mkdir_p(to, 0755));
	for (i = 0; i < n; i++) {
		char *a = ob_test_path(from, v[i]), *b = ob_test_path(to, v[i]);
		ob_file_info st;
		assert_ok(ob_file_stat_path(&st, a, 0));
		if (st.type == OB_FILE_DIR) {
			ob_test_copy_tree(a, b);
		} else {
			size_t len;
			char *data = ob_test_read(a, &len);
			ob_test_write(b, data, len);
			free(data);
		}
		free(a);
		free(b);
	}
	names_free(v, n);
}

int ob_test_trees_equal(const char *a, const char *b)
{
	size_t na, nb, i;
	char **va = names_of(a, &na), **vb = names_of(b, &nb);
	int same = na == nb;

	if (!same)
		print_message("%s has %zu entries, %s has %zu\n", a, na, b, nb);
	for (i = 0; same && i < na; i++) {
		char *pa = ob_test_path(a, va[i]), *pb = ob_test_path(b, vb[i]);
		ob_file_info sa, sb;
		if (strcmp(va[i], vb[i]) != 0) {
			print_message("%s: '%s' where %s has '%s'\n", b, vb[i], a, va[i]);
			same = 0;
		} else if (ob_file_stat_path(&sa, pa, 0) < 0 || ob_file_stat_path(&sb, pb, 0) < 0 || sa.type != sb.type) {
			print_message("%s and %s are not the same kind\n", pa, pb);
			ob_error_clear();
			same = 0;
		} else if (sa.type == OB_FILE_DIR) {
			same = ob_test_trees_equal(pa, pb);
		} else {
			size_t la, lb;
			char *da = ob_test_read(pa, &la), *db = ob_test_read(pb, &lb);
			if (la != lb || memcmp(da, db, la) != 0) {
				print_message("%s and %s differ\n", pa, pb);
				same = 0;
			}
			free(da);
			free(db);
		}
		free(pa);
		free(pb);
	}
	names_free(va, na);
	names_free(vb, nb);
	return same;
}
#endif
