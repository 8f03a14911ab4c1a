# The object shapes and parameter forms that MARS scripts (Microsoft's samples, Windows Admin Center)
# rely on: retention forms without weeks of the month or months of the year, read back through a real
# vault and Get-OBPolicy | Get-OBRetentionPolicy.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    function New-ShapesData {
        param($Context)
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'a.txt') -Value 'a'
        $data
    }

    # The WAC pattern: a policy with a weekly Sunday 02:00 schedule and the given retention, committed.
    function Set-ShapesPolicy {
        param($Data, $Retention)
        $sched = New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $Data)
        Set-OBSchedule -Policy $p -Schedule $sched -Confirm:$false | Out-Null
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy $Retention -Confirm:$false | Out-Null
        $p | Set-OBPolicy -Confirm:$false
    }
}

Describe 'New-OBRetentionPolicy forms from Microsoft''s samples and WAC' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'accepts the monthly week form without -MonthWeeksOfMonth (first week) and keeps it through the vault' {
        $r = New-OBRetentionPolicy -RetentionDays 7 -RetentionMonthlyPolicy -MonthDaysOfWeek Sunday -MonthTimesOfDay 2:00 -RetentionMonths 12
        $r.MonthlyLTRSchedule.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::First)
        Set-ShapesPolicy $data $r | Out-Null
        $got = Get-OBPolicy | Get-OBRetentionPolicy
        $m = $got.MonthlyLTRSchedule
        $m | Should -Not -BeNullOrEmpty
        $m.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::First)
        $m.DaysOfWeek | Should -Be @([DayOfWeek]::Sunday)
        $m.TimesOfDay | Should -Be @([TimeSpan]'02:00')
        $m.RetentionCount | Should -Be 12
        ($m.RetentionRange / 31) | Should -Be 12
        $got.YearlyLTRSchedule | Should -BeNullOrEmpty
    }

    It 'accepts the yearly week form without -YearMonthsOfYear/-YearWeeksOfMonth (January, first week)' {
        $r = New-OBRetentionPolicy -RetentionDays 7 -RetentionYearlyPolicy -YearDaysOfWeek Sunday -YearTimesOfDay 2:00 -RetentionYears 10
        Set-ShapesPolicy $data $r | Out-Null
        $y = (Get-OBPolicy | Get-OBRetentionPolicy).YearlyLTRSchedule
        $y.MonthsOfYear | Should -Be @([OBAgent.OBMonthOfYear]::January)
        $y.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::First)
        $y.DaysOfWeek | Should -Be @([DayOfWeek]::Sunday)
        $y.RetentionCount | Should -Be 10
        ($y.RetentionRange / 366) | Should -Be 10
    }

    It 'accepts the yearly day form without -YearMonthsOfYear (January) and both rules together' {
        $r = New-OBRetentionPolicy -RetentionDays 7 -RetentionMonthlyPolicy -MonthDaysOfWeek Sunday -MonthTimesOfDay 2:00 -RetentionMonths 6 `
            -RetentionYearlyPolicy -YearDaysOfMonth 1 -YearTimesOfDay 2:00 -RetentionYears 3
        $r.YearlyLTRSchedule.MonthsOfYear | Should -Be @([OBAgent.OBMonthOfYear]::January)
        $r.YearlyLTRSchedule.DaysOfMonth | Should -Be @('1')
        $r.MonthlyLTRSchedule.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::First)
    }

    It 'keeps explicit weeks and months when they are given' {
        $r = New-OBRetentionPolicy -RetentionDays 7 -RetentionMonthlyPolicy -MonthWeeksOfMonth Last -MonthDaysOfWeek Sunday -MonthTimesOfDay 2:00 -RetentionMonths 12 `
            -RetentionYearlyPolicy -YearMonthsOfYear March -YearWeeksOfMonth Second -YearDaysOfWeek Sunday -YearTimesOfDay 2:00 -RetentionYears 2
        $r.MonthlyLTRSchedule.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::Last)
        $r.YearlyLTRSchedule.MonthsOfYear | Should -Be @([OBAgent.OBMonthOfYear]::March)
        $r.YearlyLTRSchedule.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::Second)
    }
}

Describe 'Remove-OBPolicy and Remove-OBSystemStatePolicy: output and -EnablePruning' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'returns the removed OBPolicy, so "if (Get-OBPolicy | Remove-OBPolicy -Confirm:$false)" is true' {
        $r = New-OBRetentionPolicy -RetentionDays 7
        $c = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false
        $removed = $false
        if ($out = Get-OBPolicy | Remove-OBPolicy -Confirm:$false) { $removed = $true }
        $removed | Should -BeTrue
        $out | Should -BeOfType 'OBAgent.OBPolicy'
        $out.PolicyName | Should -Be $c.PolicyName
        Get-OBPolicy | Should -BeNullOrEmpty
    }

    It 'accepts -EnablePruning: the policy goes, the recovery points stay' {
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Shapes-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Start-OBBackup | Out-Null
        $before = @(Get-OBAllRecoveryPoints).Count
        $before | Should -BeGreaterThan 0
        $out = Get-OBPolicy | Remove-OBPolicy -EnablePruning -Confirm:$false
        $out | Should -BeOfType 'OBAgent.OBPolicy'
        Get-OBPolicy | Should -BeNullOrEmpty
        @(Get-OBAllRecoveryPoints).Count | Should -Be $before
    }

    It 'refuses -EnablePruning with -DeleteBackup and leaves the policy' {
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        $err = Get-ErrorRecord { Get-OBPolicy | Remove-OBPolicy -EnablePruning -DeleteBackup -Confirm:$false }
        $err.FullyQualifiedErrorId | Should -Match 'PruningWithDeleteBackup'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        Get-OBPolicy | Should -Not -BeNullOrEmpty
    }

    It 'Remove-OBSystemStatePolicy returns the removed policy and accepts -EnablePruning' {
        $sched = New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00
        $rtn = New-OBRetentionPolicy -RetentionWeeklyPolicy -RetentionWeeks 4 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00
        New-OBPolicy | Add-OBSystemState | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule $sched |
            Set-OBSystemStatePolicy -Confirm:$false | Out-Null
        $ss = Get-OBSystemStatePolicy
        $ss | Should -Not -BeNullOrEmpty
        $out = Get-OBSystemStatePolicy | Remove-OBSystemStatePolicy -EnablePruning -Confirm:$false
        $out | Should -BeOfType 'OBAgent.OBPolicy'
        $out.PolicyName | Should -Be $ss.PolicyName
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty
    }
}

Describe 'Unattended System State pipeline and -PassphraseSaveLocation' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'runs New-OBPolicy | Add-OBSystemState -Confirm:$false | ... | Set-OBSystemStatePolicy without a prompt' {
        (Get-Command Add-OBSystemState).Parameters.Keys | Should -Contain 'Confirm'
        # Run in a child pwsh -NonInteractive: a ShouldProcess prompt there fails instead of waiting.
        $script = @"
Import-Module '$((Get-Module OBAgent).Path)'
`$sched = New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00
`$rtn = New-OBRetentionPolicy -RetentionWeeklyPolicy -RetentionWeeks 4 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00
`$c = New-OBPolicy | Add-OBSystemState -Confirm:`$false | Set-OBRetentionPolicy -RetentionPolicy `$rtn | Set-OBSchedule -Schedule `$sched | Set-OBSystemStatePolicy
if (-not `$c) { exit 3 }
exit 0
"@
        & (Get-PwshPath) -NoProfile -NonInteractive -Command $script
        $LASTEXITCODE | Should -Be 0
        Get-OBSystemStatePolicy | Should -Not -BeNullOrEmpty
    }

    It 'accepts -PassphraseSaveLocation, writes a note with no secret and warns' {
        $dir = Join-Path $ctx.Root 'pp'
        New-Item -ItemType Directory -Path $dir | Out-Null
        $secret = 'Shapes-Save-Passphrase-4567'
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $secret) -PassphraseSaveLocation $dir -SecurityPin ' ' `
            -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        ($w -join "`n") | Should -Match 'does not save the passphrase'
        $note = Join-Path $dir 'OBAgent-PassphraseNotSaved.txt'
        Test-Path -LiteralPath $note | Should -BeTrue
        Test-SecretInFiles -Path $dir -Text $secret | Should -BeFalse
        (Get-OBMachineSetting).EncryptionSetting | Should -Not -BeNullOrEmpty
    }

    It 'accepts a -PassphraseSaveLocation that is not a folder here (a Windows path): writes nothing, warns' {
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Shapes-Save-Passphrase-8901') -PassphraseSaveLocation 'C:\Keys' `
            -WarningVariable w -WarningAction SilentlyContinue | Out-Null
        ($w -join "`n") | Should -Match 'wrote nothing'
    }
}

Describe 'OBSchedule shape' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'has ScheduleRunDaysToString() and ScheduleRunTimesToString() on the committed schedule' {
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data)
        Set-OBSchedule -Policy $p -Schedule (New-OBSchedule -DaysOfWeek Saturday, Sunday -TimesOfDay 16:00, 2:00) -Confirm:$false | Out-Null
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy (New-OBRetentionPolicy -RetentionWeeklyPolicy -RetentionWeeks 4 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00) -Confirm:$false | Out-Null
        $p | Set-OBPolicy -Confirm:$false | Out-Null
        $s = Get-OBPolicy | Get-OBSchedule
        $s.ScheduleRunDaysToString() | Should -Be 'Sunday, Saturday'
        $s.ScheduleRunTimesToString() | Should -Be '02:00, 16:00'
    }
}

Describe 'Get-OBJob order and the running job' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Shapes-Jobs-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'lists -Previous N oldest first, the newest last (WAC: $jobs[$jobs.Length-1]); QueryJobs().FinishedJobs too' {
        Get-OBJob | Should -BeNullOrEmpty
        $null -eq (Get-OBJob) | Should -BeTrue
        Get-OBPolicy | Start-OBBackup | Out-Null
        $first = Get-OBJob -Previous 1
        Set-Content -LiteralPath (Join-Path $data 'b.txt') -Value 'b'
        Get-OBPolicy | Start-OBBackup | Out-Null
        $second = Get-OBJob -Previous 1
        Remove-Item -LiteralPath $data -Recurse -Force
        Get-OBPolicy | Start-OBBackup -ErrorAction SilentlyContinue | Out-Null
        $third = Get-OBJob -Previous 1
        $third.JobStatus.JobState | Should -Be 'Failed'
        @($first.JobId, $second.JobId, $third.JobId) | Select-Object -Unique | Should -HaveCount 3

        $jobs = Get-OBJob -Previous 3
        $jobs.Length | Should -Be 3
        $jobs[$jobs.Length - 1].JobId | Should -Be $third.JobId
        $jobs.JobId | Should -Be @($first.JobId, $second.JobId, $third.JobId)
        $jobs[0].JobStatus.StartTime | Should -BeLessOrEqual $jobs[2].JobStatus.StartTime
        # N smaller than the history: the N newest, still oldest first.
        (Get-OBJob -Previous 2).JobId | Should -Be @($second.JobId, $third.JobId)
        (Get-OBJob -Previous 5 -Status Successful).JobId | Should -Be @($first.JobId, $second.JobId)

        $q = [Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::QueryJobs()
        $q.FinishedJobs.JobId | Should -Be $jobs.JobId
        $q.LastBackupJob.JobId | Should -Be $third.JobId
    }
}

Describe 'Data source ids: DsList an array, one Int64 id across policy, job and recoverable source' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Shapes-Ids-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'DsList has .Length, .Count and [0], also on a new policy; the ids compare with -eq' {
        $new = New-OBPolicy
        $new.DsList.GetType().IsArray | Should -BeTrue
        $new.DsList.Length | Should -Be 0
        $new | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Out-Null
        $new.DsList.Length | Should -Be 1
        $new.DsList[0].DatasourceId | Should -Be 0
        $new | Set-OBPolicy -Confirm:$false | Out-Null

        $p = Get-OBPolicy
        $p.DsList.GetType().IsArray | Should -BeTrue
        $p.DsList.Length | Should -Be 1
        $p.DsList.Count | Should -Be 1
        $ds = $p.DsList[0]
        $ds.DatasourceId | Should -BeOfType ([long])
        $ds.DatasourceId | Should -BeGreaterThan 0

        Get-OBPolicy | Start-OBBackup | Out-Null
        $jobDs = (Get-OBJob -Previous 1).JobStatus.DatasourceStatus[0].Datasource
        $jobDs.DataSourceId | Should -BeOfType ([long])
        ($jobDs.DataSourceId -eq $ds.DatasourceId) | Should -BeTrue

        $src = @(Get-OBRecoverableSource | Where-Object FriendlyName -eq $ds.DataSourceName)
        $src.Count | Should -Be 1
        $src[0].RecoverySourceID | Should -BeOfType ([long])
        ($src[0].RecoverySourceID -eq $ds.DatasourceId) | Should -BeTrue
        ($src[0].DatasourceId -eq $jobDs.DataSourceId) | Should -BeTrue
        $item = @($src[0] | Get-OBRecoverableItem)[0]
        $item.RecoverySourceID | Should -BeOfType ([long])
        ($item.RecoverySourceID -eq $src[0].RecoverySourceID) | Should -BeTrue
        $inside = @(Get-OBRecoverableItem -ParentItem $item)
        $inside.Count | Should -BeGreaterThan 0
        ($inside[0].RecoverySourceID -eq $ds.DatasourceId) | Should -BeTrue
    }

    It 'a System State job''s data source id equals (Get-OBSystemStatePolicy).DsList[0].DatasourceId' {
        $sched = New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00
        $rtn = New-OBRetentionPolicy -RetentionWeeklyPolicy -RetentionWeeks 4 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00
        New-OBPolicy | Add-OBSystemState | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule $sched |
            Set-OBSystemStatePolicy -Confirm:$false | Out-Null
        $ss = Get-OBSystemStatePolicy
        $ss.DsList.Length | Should -Be 1
        $ssId = $ss.DsList[0].DatasourceId
        $ssId | Should -BeGreaterThan 0
        Start-OBSystemStateBackup | Out-Null
        $job = Get-OBJob -Previous 1
        $job.JobStatus.JobState | Should -BeIn @('Completed', 'CompletedWithWarning')
        $jobDs = $job.JobStatus.DatasourceStatus[0].Datasource
        $jobDs.DataSourceName | Should -Be 'System State'
        ($jobDs.DataSourceId -eq $ssId) | Should -BeTrue
        $src = @(Get-OBRecoverableSource | Where-Object FriendlyName -eq 'System State')
        ($src[0].RecoverySourceID -eq $ssId) | Should -BeTrue
    }
}

Describe 'OBJob.JobId is a stable [Guid]' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Shapes-Guid-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
    }
    AfterEach {
        $deadline = [DateTime]::UtcNow.AddMinutes(3)
        while ((Get-OBJob) -and [DateTime]::UtcNow -lt $deadline) { Start-Sleep -Milliseconds 200 }
        Remove-TestContext $ctx
    }

    It 'is a Guid, the same on every Get-OBJob and in QueryJobs(); GetFailedFiles still reads the job' {
        (Get-Command Get-OBJob).OutputType.Type.GetProperty('JobId').PropertyType | Should -Be ([Guid])
        Get-OBPolicy | Start-OBBackup | Out-Null
        $a = Get-OBJob -Previous 1
        $a.JobId | Should -BeOfType ([Guid])
        $a.JobId | Should -Not -Be ([Guid]::Empty)
        (Get-OBJob -Previous 1).JobId | Should -Be $a.JobId
        ((Get-OBJob -Previous 1).JobId -eq $a.JobId) | Should -BeTrue
        ([Microsoft.Internal.CloudBackup.Client.Common.CBClientCommon]::QueryJobs().FinishedJobs[-1].JobId -eq $a.JobId) | Should -BeTrue
        $a.GetFailedFiles() | Should -BeNullOrEmpty

        # A second job has another Guid.
        Set-Content -LiteralPath (Join-Path $data 'c.txt') -Value 'c'
        Get-OBPolicy | Start-OBBackup | Out-Null
        (Get-OBJob -Previous 1).JobId | Should -Not -Be $a.JobId
        (Get-OBJob -Previous 2)[0].JobId | Should -Be $a.JobId

        # The mapping itself: a GUID engine id parses to itself; any other id gets the same name-based Guid each time.
        $toGuid = [OBAgent.OBJob].Assembly.GetType('OBAgent.Mapping.JobMapping').GetMethod('ToGuid', [Reflection.BindingFlags]'NonPublic, Static')
        $toGuid.Invoke($null, @($a.JobId.ToString('D'))) | Should -Be $a.JobId
        $n1 = $toGuid.Invoke($null, @('job-42'))
        $n1 | Should -Be ($toGuid.Invoke($null, @('job-42')))
        $n1 | Should -Not -Be ($toGuid.Invoke($null, @('job-43')))
        $n1 | Should -Not -Be ([Guid]::Empty)
        $n1.ToString('D')[14] | Should -Be '5'
    }

    It 'Stop-OBJob takes the Guid job from Get-OBJob and stops it' {
        $big = Join-Path $data 'big'
        New-Item -ItemType Directory -Path $big | Out-Null
        $rnd = [Random]::new(42)
        foreach ($i in 1..12) {
            $bytes = [byte[]]::new(16MB)
            $rnd.NextBytes($bytes)
            [IO.File]::WriteAllBytes((Join-Path $big "big$i.bin"), $bytes)
        }
        $job = Get-OBPolicy | Start-OBBackup -Async
        $job.JobId | Should -BeOfType ([Guid])
        (Get-OBJob).JobId | Should -Be $job.JobId
        $stopped = Get-OBJob | Stop-OBJob -Confirm:$false
        $stopped.JobId | Should -Be $job.JobId
        $stopped.JobStatus.JobState | Should -Be 'Aborted'
        (Get-OBJob -Previous 1 -Status Failed).JobId | Should -Be $job.JobId
    }
}

Describe 'OBMachineUsage.Time and OBSchedule.ScheduleId' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-ShapesData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'Get-OBMachineUsage says when it measured' {
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Shapes-Usage-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Start-OBBackup | Out-Null
        $before = [DateTime]::Now
        $u = Get-OBMachineUsage
        $after = [DateTime]::Now
        $u.Time | Should -BeOfType ([DateTime])
        $u.Time.Kind | Should -Be 'Local'
        $u.Time | Should -BeGreaterOrEqual $before
        $u.Time | Should -BeLessOrEqual $after
        $u.StorageUsedByMachineInBytes | Should -BeGreaterThan 0
        ($u | Format-List | Out-String) | Should -Match 'Time'
    }

    It 'ScheduleId is 0 before commit, then a stable Int64 of the committed schedule' {
        $sched = New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00
        $sched.ScheduleId | Should -BeOfType ([long])
        $sched.ScheduleId | Should -Be 0
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data)
        Set-OBSchedule -Policy $p -Schedule $sched -Confirm:$false | Out-Null
        $p.BackupSchedule.ScheduleId | Should -Be 0
        $p | Set-OBPolicy -Confirm:$false | Out-Null

        $id = (Get-OBPolicy | Get-OBSchedule).ScheduleId
        $id | Should -BeOfType ([long])
        $id | Should -BeGreaterThan 0
        (Get-OBPolicy | Get-OBSchedule).ScheduleId | Should -Be $id
        (Get-OBPolicy).BackupSchedule.ScheduleId | Should -Be $id

        # The same policy with a changed schedule keeps its schedule's id.
        $p2 = Get-OBPolicy
        Set-OBSchedule -Policy $p2 -Schedule (New-OBSchedule -DaysOfWeek Saturday -TimesOfDay 4:00) -Confirm:$false | Out-Null
        $p2 | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy | Get-OBSchedule).ScheduleRunDays | Should -Be @([DayOfWeek]::Saturday)
        (Get-OBPolicy | Get-OBSchedule).ScheduleId | Should -Be $id

        # The System State policy's schedule has its own id.
        $rtn = New-OBRetentionPolicy -RetentionWeeklyPolicy -RetentionWeeks 4 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00
        New-OBPolicy | Add-OBSystemState | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule (New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00) |
            Set-OBSystemStatePolicy -Confirm:$false | Out-Null
        $ssId = (Get-OBSystemStatePolicy | Get-OBSchedule).ScheduleId
        $ssId | Should -BeGreaterThan 0
        $ssId | Should -Not -Be $id
    }
}
