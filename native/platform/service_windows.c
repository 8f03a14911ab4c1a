/*
 * platform/service.h on Windows. Started by the Service Control Manager (the service that
 * samples/Install-OBAgentService.ps1 installs: `obagent.exe service`, own process, LocalSystem),
 * the body runs as the service: StartServiceCtrlDispatcherW calls service_main in a thread of its
 * own, which reports RUNNING, runs the body and reports STOPPED with its exit code; STOP and
 * SHUTDOWN set the stop event and report STOP_PENDING (the body's wait returns at once, and it ends
 * within its current step). Started any other way (a console, a scheduled task), the dispatcher
 * refuses with ERROR_FAILED_SERVICE_CONTROLLER_CONNECT and the body runs in this thread, stopped by
 * Ctrl+C, Ctrl+Break, closing the console, logoff or shutdown.
 */
#include "platform/service.h"
#include "platform/windows_internal.h"
#include "util/error.h"

#include <stdlib.h>

static struct {
	ob_platform_service_body body;
	void *payload;
	int rc, managed;
	HANDLE stop;
	SERVICE_STATUS_HANDLE status_handle;
	SERVICE_STATUS status;
	wchar_t *name;
} svc;

static void set_status(DWORD state, DWORD wait_hint)
{
	svc.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
	svc.status.dwCurrentState = state;
	svc.status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
	svc.status.dwWaitHint = wait_hint;
	if (state == SERVICE_START_PENDING || state == SERVICE_STOP_PENDING)
		svc.status.dwCheckPoint++;
	else
		svc.status.dwCheckPoint = 0;
	SetServiceStatus(svc.status_handle, &svc.status);
}

static DWORD WINAPI control(DWORD code, DWORD type, LPVOID data, LPVOID context)
{
	(void)type;
	(void)data;
	(void)context;
	switch (code) {
	case SERVICE_CONTROL_STOP:
	case SERVICE_CONTROL_SHUTDOWN:
		/* A step in progress ends first (at most a job's start; jobs are processes of their own). */
		set_status(SERVICE_STOP_PENDING, 30000);
		SetEvent(svc.stop);
		return NO_ERROR;
	case SERVICE_CONTROL_INTERROGATE:
		return NO_ERROR;
	default:
		return ERROR_CALL_NOT_IMPLEMENTED;
	}
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv)
{
	(void)argc;
	(void)argv;
	svc.status_handle = RegisterServiceCtrlHandlerExW(svc.name, control, NULL);
	if (!svc.status_handle) {
		svc.rc = ob_win_failed(GetLastError());
		return;
	}
	svc.managed = 1;
	set_status(SERVICE_START_PENDING, 10000);
	set_status(SERVICE_RUNNING, 0);
	svc.rc = svc.body(svc.payload);
	if (svc.rc < 0) {
		/* The SCM shows a service-specific exit code: the OB_E* code's magnitude. */
		svc.status.dwWin32ExitCode = ERROR_SERVICE_SPECIFIC_ERROR;
		svc.status.dwServiceSpecificExitCode = (DWORD)-svc.rc;
	}
	set_status(SERVICE_STOPPED, 0);
}

static BOOL WINAPI console_control(DWORD type)
{
	(void)type;
	/* Ctrl+C, Ctrl+Break, close, logoff, shutdown: all ask the loop to stop. */
	SetEvent(svc.stop);
	return TRUE;
}

int ob_platform_service_run(const char *name, ob_platform_service_body body, void *payload)
{
	SERVICE_TABLE_ENTRYW table[2];
	DWORD err;

	svc.body = body;
	svc.payload = payload;
	svc.rc = 0;
	if (!svc.stop && !(svc.stop = CreateEventW(NULL, TRUE, FALSE, NULL)))
		return ob_win_failed(GetLastError());
	free(svc.name);
	if (!(svc.name = ob_win_wide(name ? name : "obagent")))
		return OB_ENOMEM;
	table[0].lpServiceName = svc.name;
	table[0].lpServiceProc = service_main;
	table[1].lpServiceName = NULL;
	table[1].lpServiceProc = NULL;
	if (StartServiceCtrlDispatcherW(table))
		return svc.rc;
	err = GetLastError();
	if (err != ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
		return ob_win_failed(err);
	SetConsoleCtrlHandler(console_control, TRUE);
	return body(payload);
}

int ob_platform_service_wait(unsigned int ms)
{
	if (!svc.stop) {
		Sleep(ms);
		return 0;
	}
	return WaitForSingleObject(svc.stop, ms) == WAIT_OBJECT_0 ? 1 : 0;
}

int ob_platform_service_managed(void)
{
	return svc.managed;
}
