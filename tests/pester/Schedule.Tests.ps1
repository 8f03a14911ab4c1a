# Schedules and retention through the cmdlets: New-/Set-/Get-OBSchedule, New-/Set-/Get-OBRetentionPolicy,
# Microsoft's documented pipelines (mars.md 2 D and E) committed with Set-OBPolicy and read back with
# Get-OBPolicy, every range refusal with its category and message, and the pair check of Set-OBPolicy
# (a long-term time that is not scheduled changes nothing).

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    function New-TestData {
        param($Context)
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path (Join-Path $data 'docs'), (Join-Path $data 'temp') -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'docs/a.txt') -Value 'a'
        $data
    }

    function Get-CmdletAttribute {
        param([string] $Name)
        (Get-Command $Name).ImplementingType.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)[0]
    }

    $script:AllDays = [DayOfWeek[]]@('Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday')
}

Describe 'New-OBSchedule' {
    It 'defaults to Sunday at 21:00, every week' {
        $s = New-OBSchedule
        $s | Should -BeOfType 'OBAgent.OBSchedule'
        $s.ScheduleRunDays | Should -Be @([DayOfWeek]::Sunday)
        $s.ScheduleRunTimes.Count | Should -Be 1
        $s.ScheduleRunTimes[0] | Should -BeOfType [DateTime]
        $s.ScheduleRunTimes[0].TimeOfDay | Should -Be ([TimeSpan]'21:00')
        $s.ScheduleRunTimes[0].Date | Should -Be ([DateTime]::Today)
        $s.ScheduleWeeklyFrequency | Should -Be 1
        $s.State | Should -Be 'New'
        { [guid]::Parse($s.SchedulePolicyName) } | Should -Not -Throw
        foreach ($n in 'SchedulePolicyName', 'ScheduleRunDays', 'ScheduleRunTimes', 'ScheduleWeeklyFrequency', 'State') {
            $s.PSObject.Properties.Name | Should -Contain $n
        }
    }

    It 'takes days, up to three times a day (sorted) and a weekly frequency; ScheduleRunTimesToString' {
        $s = New-OBSchedule -DaysOfWeek Saturday, Sunday -TimesOfDay 20:00, 4:00, 12:30 -WeeklyFrequency 2
        $s.ScheduleRunDays | Should -Be @([DayOfWeek]::Sunday, [DayOfWeek]::Saturday)
        $s.ScheduleRunTimes.TimeOfDay | Should -Be @([TimeSpan]'4:00', [TimeSpan]'12:30', [TimeSpan]'20:00')
        $s.ScheduleWeeklyFrequency | Should -Be 2
        $s.ScheduleRunTimesToString() | Should -Be '04:00, 12:30, 20:00'
        (New-OBSchedule Monday 6:00).ScheduleRunDays | Should -Be @([DayOfWeek]::Monday)
        ($s | Out-String) | Should -Match 'ScheduleWeeklyFrequency'
    }

    It 'refuses four times a day with the engine''s message (InvalidArgument)' {
        $err = Get-ErrorRecord { New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 1:00, 2:00, 3:00, 4:00 }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.NewOBScheduleCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'at most 3 times a day'
    }

    It 'refuses WeeklyFrequency 5, naming 1 to 4' {
        $err = Get-ErrorRecord { New-OBSchedule -WeeklyFrequency 5 }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.NewOBScheduleCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match '1 to 4'
        $err.Exception.Message | Should -Match '5 was given'
    }

    It 'refuses a time given twice, no day, and a time with seconds' {
        (Get-ErrorRecord { New-OBSchedule -TimesOfDay 2:00, 2:00 }).Exception.Message | Should -Match 'given twice'
        (Get-ErrorRecord { New-OBSchedule -DaysOfWeek @() }).Exception.Message | Should -Match 'at least one day'
        (Get-ErrorRecord { New-OBSchedule -TimesOfDay 24:00 }).CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err = Get-ErrorRecord { New-OBSchedule -TimesOfDay '2:00:30' }
        $err.FullyQualifiedErrorId | Should -Be 'TimeOfDayNotWholeMinute,OBAgent.Commands.NewOBScheduleCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }
}

Describe 'New-OBRetentionPolicy' {
    It 'makes the documented -RetentionDays 7 policy; unset rules print "... schedule is not set"' {
        $r = New-OBRetentionPolicy -RetentionDays 7
        $r | Should -BeOfType 'OBAgent.OBRetentionPolicy'
        $r.RetentionDays | Should -Be 7
        $r.State | Should -Be 'New'
        { [guid]::Parse($r.RetentionPolicyName) } | Should -Not -Throw
        $r.WeeklyLTRSchedule | Should -BeNullOrEmpty
        $r.MonthlyLTRSchedule | Should -BeNullOrEmpty
        $r.YearlyLTRSchedule | Should -BeNullOrEmpty
        foreach ($n in 'RetentionDays', 'RetentionPolicyName', 'State', 'WeeklyLTRSchedule', 'MonthlyLTRSchedule', 'YearlyLTRSchedule') {
            $r.PSObject.Properties.Name | Should -Contain $n
        }
        $text = $r | Out-String
        $text | Should -Match 'Weekly schedule is not set'
        $text | Should -Match 'Monthly schedule is not set'
        $text | Should -Match 'Yearly schedule is not set'
    }

    It 'makes the System State example''s daily, weekly and monthly rules (RetentionRange in days)' {
        $r = New-OBRetentionPolicy -RetentionDays 32 -RetentionWeeklyPolicy -RetentionWeeks 13 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00 -RetentionMonthlyPolicy -RetentionMonths 13 -MonthDaysOfMonth 1 -MonthTimesOfDay 2:00
        $r.RetentionDays | Should -Be 32
        $r.WeeklyLTRSchedule.DaysOfWeek | Should -Be @([DayOfWeek]::Sunday)
        $r.WeeklyLTRSchedule.TimesOfDay | Should -Be @([TimeSpan]'2:00')
        $r.WeeklyLTRSchedule.RetentionRange / 7 | Should -Be 13
        $r.MonthlyLTRSchedule.DaysOfMonth | Should -Be @('1')
        $r.MonthlyLTRSchedule.RetentionRange / 31 | Should -Be 13
        $r.YearlyLTRSchedule | Should -BeNullOrEmpty
        ($r | Out-String) | Should -Match 'Yearly schedule is not set'
    }

    It 'takes the week forms, the Last day of the month and the yearly rule' {
        $r = New-OBRetentionPolicy -RetentionMonthlyPolicy -MonthWeeksOfMonth Last -MonthDaysOfWeek Saturday -MonthTimesOfDay 18:00 -RetentionMonths 12 -RetentionYearlyPolicy -YearMonthsOfYear March -YearWeeksOfMonth Last -YearDaysOfWeek Saturday -YearTimesOfDay 18:00 -RetentionYears 10
        $r.RetentionDays | Should -BeNullOrEmpty
        $r.MonthlyLTRSchedule.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::Last)
        $r.MonthlyLTRSchedule.DaysOfWeek | Should -Be @([DayOfWeek]::Saturday)
        $r.YearlyLTRSchedule.MonthsOfYear | Should -Be @([OBAgent.OBMonthOfYear]::March)
        $r.YearlyLTRSchedule.RetentionRange / 366 | Should -Be 10
        $d = New-OBRetentionPolicy -RetentionYearlyPolicy -YearMonthsOfYear January, July -YearDaysOfMonth 1, Last -YearTimesOfDay 2:00 -RetentionYears 99
        $d.YearlyLTRSchedule.DaysOfMonth | Should -Be @('1', 'Last')
        $d.YearlyLTRSchedule.MonthsOfYear | Should -Be @([OBAgent.OBMonthOfYear]::January, [OBAgent.OBMonthOfYear]::July)
        (New-OBRetentionPolicy -RetentionMonthlyPolicy -MonthDaysOfMonth last -MonthTimesOfDay 2:00 -RetentionMonths 3).MonthlyLTRSchedule.DaysOfMonth | Should -Be @('Last')
    }

    It 'refuses <Name> with the allowed range in the message (InvalidArgument)' -ForEach @(
        @{ Name = '-RetentionDays 5'; Params = @{ RetentionDays = 5 }; Text = 'RetentionDays must be from 7 to 9999; 5 was given' }
        @{ Name = '-RetentionDays 10000'; Params = @{ RetentionDays = 10000 }; Text = 'RetentionDays must be from 7 to 9999' }
        @{ Name = '-RetentionDays 0'; Params = @{ RetentionDays = 0 }; Text = 'RetentionDays must be from 7 to 9999' }
        @{ Name = '-RetentionWeeks 3'; Params = @{ RetentionWeeklyPolicy = $true; RetentionWeeks = 3; WeekDaysOfWeek = 'Sunday'; WeekTimesOfDay = '2:00' }; Text = 'RetentionWeeks must be from 4 to 5163; 3 was given' }
        @{ Name = '-RetentionMonths 2'; Params = @{ RetentionMonthlyPolicy = $true; RetentionMonths = 2; MonthDaysOfMonth = '1'; MonthTimesOfDay = '2:00' }; Text = 'RetentionMonths must be from 3 to 1188; 2 was given' }
        @{ Name = '-RetentionYears 100'; Params = @{ RetentionYearlyPolicy = $true; RetentionYears = 100; YearMonthsOfYear = 'March'; YearDaysOfMonth = '1'; YearTimesOfDay = '2:00' }; Text = 'RetentionYears must be from 1 to 99; 100 was given' }
        @{ Name = '-MonthDaysOfMonth 31'; Params = @{ RetentionMonthlyPolicy = $true; RetentionMonths = 3; MonthDaysOfMonth = '31'; MonthTimesOfDay = '2:00' }; Text = 'MonthDaysOfMonth must be days 1 to 28 or Last' }
        @{ Name = 'four weekly times'; Params = @{ RetentionWeeklyPolicy = $true; RetentionWeeks = 4; WeekDaysOfWeek = 'Sunday'; WeekTimesOfDay = '1:00', '2:00', '3:00', '4:00' }; Text = 'at most 3 times a day' }
    ) {
        $p = $Params
        $err = Get-ErrorRecord { New-OBRetentionPolicy @p }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.NewOBRetentionPolicyCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match ([regex]::Escape($Text))
    }

    It 'refuses a day that is not a day of the month, and weekly parameters without -RetentionWeeklyPolicy' {
        $err = Get-ErrorRecord { New-OBRetentionPolicy -RetentionMonthlyPolicy -MonthDaysOfMonth First -MonthTimesOfDay 2:00 -RetentionMonths 3 }
        $err.FullyQualifiedErrorId | Should -Be 'MonthDayNotValid,OBAgent.Commands.NewOBRetentionPolicyCommand'
        $err.Exception.Message | Should -Match '1 to 28 or Last'
        $err = Get-ErrorRecord { New-OBRetentionPolicy -RetentionDays 7 -RetentionWeeks 4 }
        $err.FullyQualifiedErrorId | Should -Be 'RetentionRuleSwitchMissing,OBAgent.Commands.NewOBRetentionPolicyCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err = Get-ErrorRecord { New-OBRetentionPolicy -RetentionWeeklyPolicy -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00 }
        $err.FullyQualifiedErrorId | Should -Be 'RetentionRuleIncomplete,OBAgent.Commands.NewOBRetentionPolicyCommand'
        $err = Get-ErrorRecord { New-OBRetentionPolicy -RetentionMonthlyPolicy -MonthDaysOfMonth 1 -MonthWeeksOfMonth Last -MonthDaysOfWeek Sunday -MonthTimesOfDay 2:00 -RetentionMonths 3 }
        $err | Should -Not -BeNullOrEmpty
    }

    It 'has the parameter sets of the monthly and yearly forms, with MSOnlineBackup types' {
        $cmd = Get-Command New-OBRetentionPolicy
        $cmd.ParameterSets.Count | Should -Be 9
        $cmd.DefaultParameterSet | Should -Be 'Daily'
        foreach ($n in 'RetentionDays', 'RetentionWeeks', 'RetentionMonths', 'RetentionYears') { $cmd.Parameters[$n].ParameterType | Should -Be ([long]) }
        foreach ($n in 'WeekDaysOfWeek', 'MonthDaysOfWeek', 'YearDaysOfWeek') { $cmd.Parameters[$n].ParameterType | Should -Be ([DayOfWeek[]]) }
        foreach ($n in 'WeekTimesOfDay', 'MonthTimesOfDay', 'YearTimesOfDay') { $cmd.Parameters[$n].ParameterType | Should -Be ([TimeSpan[]]) }
        foreach ($n in 'RetentionWeeklyPolicy', 'RetentionMonthlyPolicy', 'RetentionYearlyPolicy') { $cmd.Parameters[$n].SwitchParameter | Should -BeTrue }
        (Get-Command New-OBSchedule).Parameters['DaysOfWeek'].ParameterType | Should -Be ([DayOfWeek[]])
        (Get-Command New-OBSchedule).Parameters['TimesOfDay'].ParameterType | Should -Be ([TimeSpan[]])
        (Get-Command New-OBSchedule).Parameters['WeeklyFrequency'].ParameterType | Should -Be ([int])
    }
}

Describe 'Interop' {
    It 'mirrors ob_schedule (48 bytes) and ob_retention (160 bytes) on 64-bit platforms' -Skip:(-not [Environment]::Is64BitProcess) {
        $asm = (Get-Command New-OBSchedule).ImplementingType.Assembly
        # Marshal.SizeOf(Type): PowerShell would pick the SizeOf(object) overload.
        $sizeOf = [Runtime.InteropServices.Marshal].GetMethod('SizeOf', [type[]]@([type]))
        $sizeOf.Invoke($null, @($asm.GetType('OBAgent.Interop.ObScheduleNative'))) | Should -Be 48
        $sizeOf.Invoke($null, @($asm.GetType('OBAgent.Interop.ObRetentionRuleNative'))) | Should -Be 48
        $sizeOf.Invoke($null, @($asm.GetType('OBAgent.Interop.ObRetentionNative'))) | Should -Be 160
        [Runtime.InteropServices.Marshal]::OffsetOf($asm.GetType('OBAgent.Interop.ObScheduleNative'), 'anchor_date').ToInt64() | Should -Be 32
    }
}

Describe 'Set-OBSchedule, Set-OBRetentionPolicy and their Get- cmdlets' {
    It 'attach to a new policy, return the policy and read back' {
        $s = New-OBSchedule -DaysOfWeek Saturday, Sunday -TimesOfDay 16:00
        $r = New-OBRetentionPolicy -RetentionDays 7
        $p = New-OBPolicy
        $q = Set-OBSchedule -Policy $p -Schedule $s
        $q | Should -BeOfType 'OBAgent.OBPolicy'
        [object]::ReferenceEquals($q, $p) | Should -BeTrue
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy $r | Should -Be $p
        $p | Get-OBSchedule | Should -Be $s
        $p | Get-OBRetentionPolicy | Should -Be $r
        $p.BackupSchedule | Should -Be $s
        $p.RetentionPolicy | Should -Be $r
        New-OBPolicy | Get-OBSchedule | Should -BeNullOrEmpty
        New-OBPolicy | Get-OBRetentionPolicy | Should -BeNullOrEmpty
    }

    It 'chain in both orders' {
        $s = New-OBSchedule
        $r = New-OBRetentionPolicy -RetentionDays 30
        $a = New-OBPolicy | Set-OBSchedule -Schedule $s | Set-OBRetentionPolicy -RetentionPolicy $r
        $b = New-OBPolicy | Set-OBRetentionPolicy -RetentionPolicy $r | Set-OBSchedule -Schedule $s
        foreach ($x in $a, $b) {
            $x.BackupSchedule | Should -Be $s
            $x.RetentionPolicy | Should -Be $r
        }
        $c = New-OBPolicy | Set-OBSchedule -Schedule $s -WhatIf
        $c | Should -BeNullOrEmpty
    }

    It 'support ShouldProcess with ConfirmImpact Medium; Policy is positional and from the pipeline' {
        foreach ($n in 'Set-OBSchedule', 'Set-OBRetentionPolicy') {
            $attr = Get-CmdletAttribute $n
            $attr.SupportsShouldProcess | Should -BeTrue
            $attr.ConfirmImpact | Should -Be ([System.Management.Automation.ConfirmImpact]::Medium)
            $pol = (Get-Command $n).Parameters['Policy'].Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] }
            $pol.ValueFromPipeline | Should -BeTrue
            $pol.Position | Should -Be 0
        }
        foreach ($n in 'New-OBSchedule', 'New-OBRetentionPolicy', 'Get-OBSchedule', 'Get-OBRetentionPolicy') {
            (Get-CmdletAttribute $n).SupportsShouldProcess | Should -BeFalse
        }
        (Get-Command Set-OBSchedule).OutputType.Type | Should -Be ([OBAgent.OBPolicy])
        (Get-Command Set-OBRetentionPolicy).OutputType.Type | Should -Be ([OBAgent.OBPolicy])
    }
}

Describe 'Committing schedules and retention with Set-OBPolicy' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = New-TestData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'commits the documented file-policy journey (mars.md 2 D) and reads it back' {
        $p = New-OBPolicy
        $s = New-OBSchedule -DaysOfWeek Saturday, Sunday -TimesOfDay 16:00
        Set-OBSchedule -Policy $p -Schedule $s | Out-Null
        $r = New-OBRetentionPolicy -RetentionDays 7
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy $r | Out-Null
        $inc = New-OBFileSpec -FileSpec @($data)
        $exc = New-OBFileSpec -FileSpec @("$data/temp") -Exclude
        Add-OBFileSpec -Policy $p -FileSpec $inc | Out-Null
        Add-OBFileSpec -Policy $p -FileSpec $exc | Out-Null
        $c = Set-OBPolicy -Policy $p -Confirm:$false
        $c.State | Should -Be 'Existing'
        $c.BackupSchedule.State | Should -Be 'Existing'
        $c.RetentionPolicy.RetentionDays | Should -Be 7

        $gs = Get-OBPolicy | Get-OBSchedule
        $gs | Should -BeOfType 'OBAgent.OBSchedule'
        $gs.State | Should -Be 'Existing'
        $gs.ScheduleRunDays | Should -Be @([DayOfWeek]::Sunday, [DayOfWeek]::Saturday)
        $gs.ScheduleRunTimes.TimeOfDay | Should -Be @([TimeSpan]'16:00')
        $gs.ScheduleWeeklyFrequency | Should -Be 1
        $gs.SchedulePolicyName | Should -Be (Get-OBPolicy).PolicyName

        $gr = Get-OBPolicy | Get-OBRetentionPolicy
        $gr | Should -BeOfType 'OBAgent.OBRetentionPolicy'
        $gr.State | Should -Be 'Existing'
        $gr.RetentionDays | Should -Be 7
        $gr.WeeklyLTRSchedule | Should -BeNullOrEmpty
        ($gr | Out-String) | Should -Match 'Weekly schedule is not set'
        @(Get-OBPolicy | Get-OBFileSpec).FileSpec | Should -Be @($data, "$data/temp")
        (Get-OBPolicy | Out-String) | Should -Match 'BackupSchedule'
    }

    It 'commits the long-term rules of mars.md 2 E in one pipeline, retention before schedule' {
        $sched = New-OBSchedule -DaysOfWeek $script:AllDays -TimesOfDay 2:00
        $rtn = New-OBRetentionPolicy -RetentionDays 32 -RetentionWeeklyPolicy -RetentionWeeks 13 -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00 -RetentionMonthlyPolicy -RetentionMonths 13 -MonthDaysOfMonth 1 -MonthTimesOfDay 2:00
        $c = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBRetentionPolicy -RetentionPolicy $rtn | Set-OBSchedule -Schedule $sched | Set-OBPolicy -Confirm:$false
        $c.RetentionPolicy.WeeklyLTRSchedule.RetentionRange | Should -Be (13 * 7)

        $gs = Get-OBPolicy | Get-OBSchedule
        $gs.ScheduleRunDays | Should -Be $script:AllDays
        $gs.ScheduleRunTimesToString() | Should -Be '02:00'
        $gr = Get-OBPolicy | Get-OBRetentionPolicy
        $gr.RetentionDays | Should -Be 32
        $gr.WeeklyLTRSchedule.DaysOfWeek | Should -Be @([DayOfWeek]::Sunday)
        $gr.WeeklyLTRSchedule.TimesOfDay | Should -Be @([TimeSpan]'2:00')
        $gr.WeeklyLTRSchedule.RetentionRange / 7 | Should -Be 13
        $gr.MonthlyLTRSchedule.DaysOfMonth | Should -Be @('1')
        $gr.MonthlyLTRSchedule.RetentionRange / 31 | Should -Be 13
        $gr.YearlyLTRSchedule | Should -BeNullOrEmpty
    }

    It 'commits New-OBPolicy | Set-OBSchedule | Set-OBRetentionPolicy | Add-OBFileSpec | Set-OBPolicy with weekly-schedule rules' {
        $s = New-OBSchedule -DaysOfWeek Saturday -TimesOfDay 18:00, 6:00 -WeeklyFrequency 2
        $r = New-OBRetentionPolicy -RetentionWeeklyPolicy -WeekDaysOfWeek Saturday -WeekTimesOfDay 18:00 -RetentionWeeks 8 -RetentionMonthlyPolicy -MonthWeeksOfMonth Last -MonthDaysOfWeek Saturday -MonthTimesOfDay 18:00 -RetentionMonths 12 -RetentionYearlyPolicy -YearMonthsOfYear March -YearWeeksOfMonth Last -YearDaysOfWeek Saturday -YearTimesOfDay 18:00 -RetentionYears 10
        New-OBPolicy | Set-OBSchedule -Schedule $s | Set-OBRetentionPolicy -RetentionPolicy $r |
            Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        $gs = Get-OBPolicy | Get-OBSchedule
        $gs.ScheduleWeeklyFrequency | Should -Be 2
        $gs.ScheduleRunTimesToString() | Should -Be '06:00, 18:00'
        $gr = Get-OBPolicy | Get-OBRetentionPolicy
        $gr.RetentionDays | Should -BeNullOrEmpty
        $gr.MonthlyLTRSchedule.WeeksOfMonth | Should -Be @([OBAgent.OBWeekOfMonth]::Last)
        $gr.YearlyLTRSchedule.MonthsOfYear | Should -Be @([OBAgent.OBMonthOfYear]::March)
        $gr.YearlyLTRSchedule.RetentionRange / 366 | Should -Be 10
    }

    It 'keeps the schedule and retention through Get-OBPolicy | Add-OBFileSpec | Set-OBPolicy' {
        $s = New-OBSchedule -DaysOfWeek Monday -TimesOfDay 3:00
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBSchedule -Schedule $s |
            Set-OBRetentionPolicy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 14) | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/temp" -Exclude) | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy | Get-OBSchedule).ScheduleRunDays | Should -Be @([DayOfWeek]::Monday)
        (Get-OBPolicy | Get-OBRetentionPolicy).RetentionDays | Should -Be 14
        # A committed policy's schedule changes with Set-OBSchedule and Set-OBPolicy.
        Get-OBPolicy | Set-OBSchedule -Schedule (New-OBSchedule -DaysOfWeek Friday -TimesOfDay 23:30) | Set-OBPolicy -Confirm:$false | Out-Null
        (Get-OBPolicy | Get-OBSchedule).ScheduleRunDays | Should -Be @([DayOfWeek]::Friday)
        (Get-OBPolicy | Get-OBSchedule).ScheduleRunTimesToString() | Should -Be '23:30'
        (Get-OBPolicy | Get-OBRetentionPolicy).RetentionDays | Should -Be 14
        # A policy without a schedule has none.
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBPolicy -Confirm:$false | Out-Null
        Get-OBPolicy | Get-OBSchedule | Should -BeNullOrEmpty
        Get-OBPolicy | Get-OBRetentionPolicy | Should -BeNullOrEmpty
    }

    It 'refuses a weekly time that is not scheduled, with the engine''s message, and changes nothing' {
        $s = New-OBSchedule -DaysOfWeek Saturday, Sunday -TimesOfDay 16:00
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBSchedule -Schedule $s |
            Set-OBRetentionPolicy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7) | Set-OBPolicy -Confirm:$false | Out-Null
        $before = Get-OBPolicy

        $bad = New-OBRetentionPolicy -RetentionWeeklyPolicy -WeekDaysOfWeek Sunday -WeekTimesOfDay 2:00 -RetentionWeeks 4
        $err = Get-ErrorRecord {
            New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec "$data/docs") | Set-OBSchedule -Schedule $s |
                Set-OBRetentionPolicy -RetentionPolicy $bad | Set-OBPolicy -Confirm:$false
        }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBPolicyCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'WeekTimesOfDay: 02:00 is not a time the schedule runs'

        # A day the schedule does not run on is refused the same way.
        $badDay = New-OBRetentionPolicy -RetentionWeeklyPolicy -WeekDaysOfWeek Monday -WeekTimesOfDay 16:00 -RetentionWeeks 4
        $err = Get-ErrorRecord { Get-OBPolicy | Set-OBRetentionPolicy -RetentionPolicy $badDay | Set-OBPolicy -Confirm:$false }
        $err.Exception.Message | Should -Match 'Monday is not a day the schedule runs'

        $after = Get-OBPolicy
        @($after | Get-OBFileSpec).FileSpec | Should -Be @($data)
        ($after | Get-OBSchedule).ScheduleRunTimesToString() | Should -Be '16:00'
        ($after | Get-OBRetentionPolicy).RetentionDays | Should -Be 7
        ($after | Get-OBRetentionPolicy).WeeklyLTRSchedule | Should -BeNullOrEmpty
        $after.PolicyName | Should -Be $before.PolicyName
    }

    It 'refuses the day-of-month form without a daily schedule' {
        $s = New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 2:00
        $r = New-OBRetentionPolicy -RetentionMonthlyPolicy -MonthDaysOfMonth 1 -MonthTimesOfDay 2:00 -RetentionMonths 3
        $err = Get-ErrorRecord {
            New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) | Set-OBSchedule -Schedule $s |
                Set-OBRetentionPolicy -RetentionPolicy $r | Set-OBPolicy -Confirm:$false
        }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -Match 'every day of the week'
        Get-OBPolicy | Should -BeNullOrEmpty
    }
}

Describe 'On-demand retention' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Schedule-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = New-TestData $ctx
    }
    AfterEach { Remove-TestContext $ctx }

    It 'Start-OBBackup -RetainUntil shows RetainUntil on Get-OBAllRecoveryPoints, next to a retention policy' {
        New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data) |
            Set-OBSchedule -Schedule (New-OBSchedule -DaysOfWeek Saturday, Sunday -TimesOfDay 16:00) |
            Set-OBRetentionPolicy -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7) | Set-OBPolicy -Confirm:$false | Out-Null
        $until = [DateTime]::Now.AddDays(60)
        Get-OBPolicy | Start-OBBackup -RetainUntil $until | Out-Null
        $points = @(Get-OBAllRecoveryPoints)
        $points.Count | Should -Be 1
        $points[0].RetainUntil | Should -BeOfType [DateTime]
        [Math]::Abs(($points[0].RetainUntil - $until).TotalSeconds) | Should -BeLessThan 2
        (Get-OBPolicy | Get-OBRetentionPolicy).RetentionDays | Should -Be 7
    }
}
