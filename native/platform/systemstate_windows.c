/*
 * The platform half of the System State capture (platform/systemstate.h) on
 * Windows: Windows Server Backup (`wbadmin start systemstatebackup`) makes the
 * capture from its own VSS snapshot, as MARS has it do. Running it needs a
 * Windows Server with the Windows Server Backup feature, which this project
 * cannot test (docs/WINDOWS.md, "What Wine cannot prove"); until that lane
 * exists the capture refuses, saying so, and nothing is half-written.
 */
#include "platform/systemstate.h"
#include "platform/file.h"
#include "util/error.h"

int ob_systemstate_platform_empty(const char *dir)
{
	ob_dir *d = NULL;
	const char *name;
	int error = ob_dir_open(&d, dir);

	if (error < 0)
		return ob_platform_fail("Cannot open the System State staging folder", dir);
	while (error == 0 && ob_dir_next(d, &name))
		error = ob_err(OB_EINVALID, OB_ERRCLASS_INVALID, "The System State staging folder '%s' is not empty (it holds "
			"'%s'); empty it or name another.", dir, name);
	ob_dir_close(d);
	return error;
}

int ob_systemstate_platform_capture(ob_ss *ss)
{
	(void)ss;
	return ob_err(OB_EINVALID, OB_ERRCLASS_INVALID,
		"System State backup on Windows runs Windows Server Backup (wbadmin), which this build of obagent does not "
		"drive yet: install the Windows Server Backup feature and use wbadmin directly, or back up files and folders.");
}
