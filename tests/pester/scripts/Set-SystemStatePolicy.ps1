# The System State policy in one pipeline, unattended (Microsoft's step E.18: no -Confirm on
# Set-OBSystemStatePolicy), daily at 2:00 with 32 days and monthly day-of-month retention.
$ErrorActionPreference = 'Stop'
Import-Module MSOnlineBackup
$sched = New-OBSchedule -DaysOfWeek Sunday, Monday, Tuesday, Wednesday, Thursday, Friday, Saturday -TimesOfDay 2:00
$rtn = New-OBRetentionPolicy -RetentionDays 32 -RetentionWeeklyPolicy -RetentionWeeks 13 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00 `
    -RetentionMonthlyPolicy -RetentionMonths 13 -MonthDaysOfMonth 1 -MonthTimesOfDay 2:00
New-OBPolicy | Add-OBSystemState -Confirm:$false | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule $sched | Set-OBSystemStatePolicy | Out-Null
# Pause and resume it as WAC does; the file policy must stay as it is.
Get-OBSystemStatePolicy | Set-OBPolicyState -State Paused -Confirm:$false | Set-OBSystemStatePolicy | Out-Null
$paused = (Get-OBSystemStatePolicy | Get-OBPolicyState)
$filePolicy = Get-OBPolicy -ErrorAction SilentlyContinue
$fileState = if ($filePolicy) { [string]($filePolicy | Get-OBPolicyState) } else { 'none' }
Get-OBSystemStatePolicy | Set-OBPolicyState -State Valid -Confirm:$false | Set-OBSystemStatePolicy | Out-Null
$ss = Get-OBSystemStatePolicy
[pscustomobject]@{
    Paused    = [string]$paused
    FileState = $fileState
    Resumed   = [string]($ss | Get-OBPolicyState)
    WriterId  = [string]$ss.DsList[0].WriterId
    Days      = $ss.RetentionPolicy.RetentionDays
} | ConvertTo-Json -Compress
