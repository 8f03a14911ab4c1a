# Replaces the file and folder policy: a weekly schedule (Saturday and Sunday 16:00), long-term
# retention built from the schedule's days and times (weekly, monthly week-based, yearly), inclusions
# and exclusions; then reads it back as the documented verification step does.
param([Parameter(Mandatory)] [string[]] $Include, [string[]] $Exclude)
$ErrorActionPreference = 'Stop'
Import-Module MSOnlineBackup
$days = [DayOfWeek[]]('Saturday', 'Sunday')
$times = [TimeSpan[]]('16:00')
$old = Get-OBPolicy -ErrorAction SilentlyContinue
if ($old) { $null = Remove-OBPolicy -Policy $old -Confirm:$false }
$p = New-OBPolicy
$sched = New-OBSchedule -DaysOfWeek $days -TimesOfDay $times
Set-OBSchedule -Policy $p -Schedule $sched | Out-Null
$ret = New-OBRetentionPolicy -RetentionWeeklyPolicy -WeekDaysOfWeek $days -WeekTimesOfDay $times -RetentionWeeks 4 `
    -RetentionMonthlyPolicy -MonthDaysOfWeek $days -MonthTimesOfDay $times -RetentionMonths 12 `
    -RetentionYearlyPolicy -YearDaysOfWeek $days -YearTimesOfDay $times -RetentionYears 3
Set-OBRetentionPolicy -Policy $p -RetentionPolicy $ret | Out-Null
Add-OBFileSpec -Policy $p -FileSpec (New-OBFileSpec -FileSpec $Include) | Out-Null
if ($Exclude) { Add-OBFileSpec -Policy $p -FileSpec (New-OBFileSpec -FileSpec $Exclude -Exclude) | Out-Null }
Set-OBPolicy -Policy $p -Confirm:$false | Out-Null
$sc = Get-OBPolicy | Get-OBSchedule
$r = Get-OBPolicy | Get-OBRetentionPolicy
$specs = Get-OBPolicy | Get-OBFileSpec
[pscustomobject]@{
    Days       = $sc.ScheduleRunDaysToString()
    Times      = $sc.ScheduleRunTimesToString()
    Weeks      = $r.WeeklyLTRSchedule.RetentionRange / 7
    Months     = $r.MonthlyLTRSchedule.RetentionRange / 31
    Years      = $r.YearlyLTRSchedule.RetentionRange / 366
    Included   = @($specs | Where-Object { -not $_.IsExclude } | ForEach-Object FileSpec)
    Excluded   = @($specs | Where-Object { $_.IsExclude } | ForEach-Object FileSpec)
    Datasource = @((Get-OBPolicy).DsList | ForEach-Object DatasourceId)
} | ConvertTo-Json -Compress
