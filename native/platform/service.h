/*
 * Internal: running as the system's service (the scheduler, native/jobs/service.c). The body
 * runs inside ob_platform_service_run and waits between its steps with ob_platform_service_wait,
 * which returns at once when the system asks the service to stop.
 * - POSIX (service_posix.c): the body runs in this process; SIGTERM and SIGINT ask it to stop
 *   (systemd's stop, Ctrl+C), through a pipe the wait polls, so no signal is ever missed.
 * - Windows (service_windows.c): when the Service Control Manager started this process, the body
 *   runs as the service (StartServiceCtrlDispatcherW; the status RUNNING while it runs, STOPPED
 *   with its exit code after), and the SCM's stop and shutdown controls ask it to stop; in a
 *   console (a scheduled task, a test), Ctrl+C, Ctrl+Break and closing the console do.
 * Failures as in platform/file.h (OB_E* codes, no message recorded).
 */
#ifndef OB_NATIVE_PLATFORM_SERVICE_H
#define OB_NATIVE_PLATFORM_SERVICE_H

typedef int (*ob_platform_service_body)(void *payload);

/**
 * Run body(payload) as the service named name (Windows: the name it is installed under; POSIX:
 * unused) or, when no service manager started this process, in it as it is. Returns body's result,
 * or OB_EIO when the service manager could not be reached though it started the process.
 */
int ob_platform_service_run(const char *name, ob_platform_service_body body, void *payload);
/** Wait up to ms milliseconds: 1 as soon as a stop was asked (now or before), else 0. */
int ob_platform_service_wait(unsigned int ms);
/** 1 when the service runs under the system's service manager (Windows' SCM), else 0. */
int ob_platform_service_managed(void);

#endif
