# The scheduler as the system runs it: `obagent service` started as systemd starts it (no
# terminal, its own process), runs the backup the policy's schedule asks for, keeps waiting for the
# next time, and ends at once, with status 0, when the system stops it (SIGTERM), even in the middle
# of its minute-long wait. And `service --once --wait` (one step, as a scheduled task runs it)
# reports the job it started as it ended. Time is moved with OBAGENT_NOW.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $script:Cli = Join-Path $env:OBAGENT_TEST_MODULE 'obagent'
    $script:Base = [DateTime]::UtcNow
    function Format-TestNow { param([TimeSpan] $Offset)
        $script:Base.Add($Offset).ToString('yyyy-MM-ddTHH:mm:ssZ', [Globalization.CultureInfo]::InvariantCulture) }

    # A server with a daily 21:00 schedule committed at the base time, and no backup yet.
    function New-ScheduledServer {
        param($Context)
        $env:OBAGENT_NOW = Format-TestNow ([TimeSpan]::Zero)
        Register-TestServer $Context | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'Service-Test-Passphrase-0123') -WarningAction SilentlyContinue | Out-Null
        $data = Join-Path $Context.Root 'data'
        New-Item -ItemType Directory -Path $data -Force | Out-Null
        Set-Content -LiteralPath (Join-Path $data 'f.txt') -Value 'scheduled'
        $p = New-OBPolicy | Add-OBFileSpec -FileSpec (New-OBFileSpec -FileSpec $data)
        $days = [DayOfWeek[]][Enum]::GetValues([DayOfWeek])
        Set-OBSchedule -Policy $p -Schedule (New-OBSchedule -DaysOfWeek $days -TimesOfDay 21:00) -Confirm:$false | Out-Null
        Set-OBPolicy -Policy $p -Confirm:$false | Out-Null
        Remove-Item Env:OBAGENT_NOW
    }

    # The service started as a process of its own, a day after the commit (a scheduled time passed).
    function Start-TestService {
        param([string[]] $Arguments = @('service'))
        $psi = [Diagnostics.ProcessStartInfo]::new($script:Cli)
        foreach ($a in $Arguments) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        $psi.Environment['OBAGENT_NOW'] = Format-TestNow ([TimeSpan]::FromDays(1))
        $proc = [Diagnostics.Process]::Start($psi)
        [pscustomobject]@{ Process = $proc; Out = $proc.StandardOutput.ReadToEndAsync(); Err = $proc.StandardError.ReadToEndAsync() }
    }

    function Wait-Until { param([scriptblock] $Condition, [int] $Seconds = 180, [string] $What)
        $deadline = [DateTime]::UtcNow.AddSeconds($Seconds)
        while (-not (& $Condition)) {
            if ([DateTime]::UtcNow -gt $deadline) { throw "timed out waiting for $What" }
            Start-Sleep -Milliseconds 200
        }
    }
}

Describe 'obagent service: the scheduler runs as the system runs it' {
    BeforeEach { $ctx = New-TestContext; New-ScheduledServer $ctx }
    AfterEach {
        if ($svc -and -not $svc.Process.HasExited) { $svc.Process.Kill() }
        Remove-TestContext $ctx
    }

    It 'runs the due backup, keeps waiting, and ends at once with status 0 on SIGTERM' {
        $svc = Start-TestService
        Wait-Until -What 'the scheduled backup to end' {
            $j = Get-OBJob -Previous 1
            $j -and $j.JobStatus.JobState -eq 'Completed'
        }
        $svc.Process.HasExited | Should -BeFalse -Because 'the service waits for the next scheduled time'
        # One scheduled time passed: exactly one backup, however many steps the service took meanwhile.
        @(Get-OBJob -Previous 10).Count | Should -Be 1
        & kill -TERM $svc.Process.Id
        # The wait (up to a minute) ends at the stop; a generous bound, far below that minute.
        $svc.Process.WaitForExit(45000) | Should -BeTrue -Because 'a stop ends the wait at once'
        $svc.Process.ExitCode | Should -Be 0 -Because $svc.Err.Result
        $svc.Out.Result | Should -Match 'Started scheduled backup [0-9a-f-]{36}'
        @(Get-OBAllRecoveryPoints).Count | Should -Be 1
    }

    It 'service --once --wait starts the due backup and reports it as it ended' {
        $svc = Start-TestService @('service', '--once', '--wait')
        $svc.Process.WaitForExit(300000) | Should -BeTrue
        $svc.Process.ExitCode | Should -Be 0 -Because $svc.Err.Result
        $svc.Out.Result | Should -Match 'Started scheduled backup'
        $svc.Out.Result | Should -Match 'Completed'
        (Get-OBJob -Previous 1).JobStatus.JobState | Should -Be 'Completed'
    }

    It 'reports a step that fails (an unreadable clock setting) and keeps its exit status honest' {
        $psi = [Diagnostics.ProcessStartInfo]::new($script:Cli)
        'service', '--once' | ForEach-Object { $psi.ArgumentList.Add($_) }
        $psi.RedirectStandardError = $true; $psi.RedirectStandardOutput = $true; $psi.UseShellExecute = $false
        $psi.Environment['OBAGENT_NOW'] = 'not-a-time'
        $p = [Diagnostics.Process]::Start($psi)
        $err = $p.StandardError.ReadToEnd(); $null = $p.StandardOutput.ReadToEnd()
        $p.WaitForExit(60000) | Should -BeTrue
        $p.ExitCode | Should -Be 1
        $err | Should -Match "obagent service: .*OBAGENT_NOW='not-a-time'"
        @(Get-OBJob -Previous 10).Count | Should -Be 0
    }
}
