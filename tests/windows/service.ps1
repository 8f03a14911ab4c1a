# The scheduler as a Windows service (run by .ci/windows in the PowerShell host under wine64, in a
# Wine prefix of its own): samples/Install-OBAgentService.ps1 installs `obagent.exe service` with the
# Service Control Manager, the service runs the backup the policy's schedule asks for, in the
# machine's state folder (%ProgramData%\obagent, no OBAGENT_HOME), stops when the SCM asks, and is
# removed. Prints "Service job completed successfully." last.
param([Parameter(Mandatory)] [string] $ModuleRoot, [Parameter(Mandatory)] [string] $Work, [Parameter(Mandatory)] [string] $Sample)
$ErrorActionPreference = 'Stop'
Remove-Item Env:OBAGENT_HOME, Env:OBAGENT_SERVER_NAME, Env:OBAGENT_NOW -ErrorAction SilentlyContinue
Import-Module (Join-Path $ModuleRoot 'OBAgent\OBAgent.psd1')
function Wait-Until { param([scriptblock] $Condition, [string] $What, [int] $Seconds = 240)
    $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
    while (-not (& $Condition)) {
        if ([DateTime]::UtcNow -gt $deadline) { throw "timed out waiting for $What" }
        Start-Sleep -Milliseconds 250
    }
}

$data = Join-Path $Work 'data'
New-Item -ItemType Directory -Force -Path $data | Out-Null
Set-Content -Path (Join-Path $data 'scheduled.txt') -Value 'backed up by the service'
New-OBVault -Name 'Service-Vault' -Path (Join-Path $Work 'vault') | Out-Null
$cred = Get-OBVaultCredentials -Path (Join-Path $Work 'vault') -OutputPath (Join-Path $Work 'creds')
Start-OBRegistration -VaultCredentials $cred.FullName -Confirm:$false | Out-Null
Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-SecureString 'Windows-Service-Passphrase-2026' -AsPlainText -Force) -WarningAction SilentlyContinue | Out-Null

# The policy is committed "yesterday" (the clock pinned) with a daily time between then and now, so
# one scheduled time has passed when the service, on the real clock, takes its first step.
$now = [DateTime]::Now
$env:OBAGENT_NOW = $now.ToUniversalTime().AddDays(-1).ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture)
$policy = New-OBPolicy
Add-OBFileSpec -Policy $policy -FileSpec (New-OBFileSpec -FileSpec $data) | Out-Null
$days = [DayOfWeek[]][Enum]::GetValues([DayOfWeek])
Set-OBSchedule -Policy $policy -Schedule (New-OBSchedule -DaysOfWeek $days -TimesOfDay $now.AddHours(-1).ToString('HH:mm')) | Out-Null
Set-OBPolicy -Policy $policy -Confirm:$false | Out-Null
Remove-Item Env:OBAGENT_NOW
if (@(Get-OBJob -Previous 10).Count -ne 0) { throw 'a job ran before the service was installed' }

& $Sample -Path (Join-Path $ModuleRoot 'OBAgent\obagent.exe')
Wait-Until -What 'the service to run' { (Get-Service -Name obagent).Status -eq 'Running' }
Wait-Until -What 'the scheduled backup to end' {
    $j = Get-OBJob -Previous 1
    $j -and $j.JobStatus.JobState -ne 'InProgress'
}
$job = Get-OBJob -Previous 1
if ($job.JobStatus.JobState -ne 'Completed') { throw "the scheduled backup ended $($job.JobStatus.JobState)" }
if (@(Get-OBRecoverableItem -Source @(Get-OBRecoverableSource)[0]).Count -ne 1) { throw 'no recovery point from the service' }
if ((Get-Service -Name obagent).Status -ne 'Running') { throw 'the service did not keep running after its backup' }
"the service ran scheduled backup $($job.JobId)"

Stop-Service -Name obagent
Wait-Until -What 'the service to stop' -Seconds 60 { (Get-Service -Name obagent).Status -eq 'Stopped' }
& $Sample -Uninstall
if (Get-Service -Name obagent -ErrorAction SilentlyContinue) { throw 'the service is still installed' }
'Service job completed successfully.'
