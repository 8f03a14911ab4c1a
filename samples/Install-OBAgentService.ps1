<#
.SYNOPSIS
    Installs obagent's scheduler as a Windows service (or removes it), as MARS runs its engine.
.DESCRIPTION
    The scheduler (`obagent.exe service`, docs/SCHEDULER.md) runs the backups the policies'
    schedules ask for (Set-OBSchedule), with nobody logged in. This script installs it as the
    Windows service "obagent": its own process, LocalSystem, started at boot (Automatic, delayed:
    after the network), restarted by the Service Control Manager 60 seconds after a failure, its
    state the machine's %ProgramData%\obagent (the folder the module uses when OBAGENT_HOME is not
    set). Stopping the service does not stop a job in progress: jobs are processes of their own.
    -Uninstall stops and removes it. Run as an administrator. -AsScheduledTask registers the same
    loop as a Task Scheduler task at startup under SYSTEM instead (no second instance), for
    machines whose policy forbids new services.
.EXAMPLE
    .\Install-OBAgentService.ps1                       # obagent.exe from the OBAgent module's folder
    .\Install-OBAgentService.ps1 -Uninstall
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # obagent.exe: by default the one beside the OBAgent module's libobagent.dll.
    [string] $Path,
    [string] $Name = 'obagent',
    [switch] $AsScheduledTask,
    [switch] $Uninstall
)
$ErrorActionPreference = 'Stop'
# sc.exe by its full path: `sc` alone is Set-Content in Windows PowerShell 5.1.
$sc = Join-Path $env:SystemRoot 'System32\sc.exe'

if (-not $Path) {
    $module = Get-Module OBAgent
    if (-not $module) { $module = Get-Module OBAgent -ListAvailable | Select-Object -First 1 }
    if (-not $module) { throw 'Cannot find the OBAgent module: import it, or give -Path to obagent.exe.' }
    $Path = Join-Path $module.ModuleBase 'obagent.exe'
}
if (-not $Uninstall -and -not (Test-Path -LiteralPath $Path -PathType Leaf)) {
    throw "obagent.exe is not at '$Path': give -Path to the obagent.exe of the OBAgent module."
}

if ($AsScheduledTask) {
    if ($Uninstall) {
        if (Get-ScheduledTask -TaskName $Name -ErrorAction SilentlyContinue) {
            Stop-ScheduledTask -TaskName $Name -ErrorAction SilentlyContinue
            Unregister-ScheduledTask -TaskName $Name -Confirm:$false
        }
        return
    }
    $action = New-ScheduledTaskAction -Execute $Path -Argument 'service'
    $settings = New-ScheduledTaskSettingsSet -MultipleInstances IgnoreNew -ExecutionTimeLimit ([TimeSpan]::Zero) `
        -RestartCount 3 -RestartInterval (New-TimeSpan -Minutes 1) -StartWhenAvailable
    $principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
    if ($PSCmdlet.ShouldProcess($Name, 'Register the scheduled task')) {
        Register-ScheduledTask -TaskName $Name -Action $action -Settings $settings -Principal $principal `
            -Trigger (New-ScheduledTaskTrigger -AtStartup) -Description 'obagent backup scheduler' -Force | Out-Null
        Start-ScheduledTask -TaskName $Name
    }
    return
}

$existing = Get-Service -Name $Name -ErrorAction SilentlyContinue
if ($Uninstall) {
    if ($existing) {
        if ($existing.Status -ne 'Stopped') { Stop-Service -Name $Name -Force }
        # Remove-Service is PowerShell 6 and later; sc.exe works in Windows PowerShell 5.1 too.
        & $sc delete $Name | Out-Null
        if ($LASTEXITCODE -ne 0) { throw "sc.exe delete $Name failed ($LASTEXITCODE)." }
    }
    return
}
if ($existing) { throw "A service named '$Name' exists already: run with -Uninstall first." }
if ($PSCmdlet.ShouldProcess($Name, 'Install and start the service')) {
    New-Service -Name $Name -BinaryPathName "`"$Path`" service" -DisplayName 'obagent backup scheduler' `
        -Description 'Runs the backups that the obagent policies schedule (Set-OBSchedule).' `
        -StartupType Automatic | Out-Null
    # Delayed start (after the network is up) and restarts after a failure, as MARS's engine has them.
    & $sc config $Name start= delayed-auto | Out-Null
    & $sc failure $Name reset= 86400 actions= restart/60000/restart/60000/restart/60000 | Out-Null
    Start-Service -Name $Name
}
