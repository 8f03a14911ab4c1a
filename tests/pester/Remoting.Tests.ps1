# PSRemoting over SSH, as Windows Admin Center and fleet tooling reach a server: the objects that
# monitoring reads must arrive with their nested properties (OBAgent.Types.ps1xml's serialization
# depths), and `Get-OBPolicy | Start-OBBackup` must work through Import-PSSession, where the policy arrives
# deserialized. The test starts its own sshd (own config, host key and authorized key, loopback only, a
# free port), connects with PowerShell's SSH transport and stops sshd by its PID.

BeforeDiscovery {
    $NoSsh = -not $IsLinux
}

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest

    function Get-FreePort {
        $l = [Net.Sockets.TcpListener]::new([Net.IPAddress]::Loopback, 0)
        $l.Start()
        try { $l.LocalEndpoint.Port } finally { $l.Stop() }
    }

    function Test-PortOpen([int] $Port) {
        $c = [Net.Sockets.TcpClient]::new()
        try { $c.Connect('127.0.0.1', $Port); $true } catch { $false } finally { $c.Dispose() }
    }

    # Starts sshd on a loopback port with a powershell subsystem; returns what the session needs.
    function Start-TestSshd([string] $Dir) {
        $sshd = '/usr/sbin/sshd'
        if (-not (Test-Path -LiteralPath $sshd)) { throw "sshd is missing ($sshd): .ci/setup installs openssh-server." }
        if (-not (Get-Command ssh -CommandType Application -ErrorAction SilentlyContinue)) { throw 'ssh is missing: .ci/setup installs openssh-client.' }
        New-Item -ItemType Directory -Path $Dir -Force | Out-Null
        & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $Dir 'host_key') | Out-Null
        & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $Dir 'client_key') | Out-Null
        Copy-Item (Join-Path $Dir 'client_key.pub') (Join-Path $Dir 'authorized_keys')
        chmod 600 (Join-Path $Dir 'client_key') (Join-Path $Dir 'host_key') (Join-Path $Dir 'authorized_keys')
        # sshd's privilege separation folder (created by the service's unit, which does not run here).
        New-Item -ItemType Directory -Path '/run/sshd' -Force | Out-Null
        $pwsh = Get-PwshPath
        $port = Get-FreePort
        $config = Join-Path $Dir 'sshd_config'
        @(
            "Port $port"
            'ListenAddress 127.0.0.1'
            "HostKey $(Join-Path $Dir 'host_key')"
            "PidFile $(Join-Path $Dir 'sshd.pid')"
            "AuthorizedKeysFile $(Join-Path $Dir 'authorized_keys')"
            'PubkeyAuthentication yes'
            'PasswordAuthentication no'
            'KbdInteractiveAuthentication no'
            'PermitRootLogin prohibit-password'
            'UsePAM no'
            'StrictModes no'
            "Subsystem powershell $pwsh -sshs -NoLogo -NoProfile"
        ) | Set-Content -LiteralPath $config
        $log = Join-Path $Dir 'sshd.log'
        $proc = Start-Process -FilePath $sshd -ArgumentList @('-D', '-f', $config, '-E', $log) -PassThru
        $deadline = [DateTime]::UtcNow.AddSeconds(120)
        while (-not (Test-PortOpen $port)) {
            if ($proc.HasExited) { throw "sshd exited ($($proc.ExitCode)): $(Get-Content -Raw -LiteralPath $log -ErrorAction SilentlyContinue)" }
            if ([DateTime]::UtcNow -gt $deadline) { throw "sshd did not listen on 127.0.0.1:$port in 120 s" }
            Start-Sleep -Milliseconds 100
        }
        [pscustomobject]@{ Process = $proc; Port = $port; Key = (Join-Path $Dir 'client_key'); Log = $log }
    }

    function New-TestSession($Sshd) {
        New-PSSession -HostName 127.0.0.1 -Port $Sshd.Port -UserName (id -un) -KeyFilePath $Sshd.Key `
            -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ErrorAction Stop
    }
}

Describe 'PSRemoting over SSH' -Skip:$NoSsh {
    BeforeAll {
        $ctx = New-TestContext
        $sshd = Start-TestSshd (Join-Path $ctx.Root 'ssh')
        $session = New-TestSession $sshd
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path $data | Out-Null
        foreach ($i in 1..10) { Set-Content -LiteralPath (Join-Path $data "file$i.txt") -Value ("remote $i " * 100) }
        $missing = Join-Path $ctx.Root 'not-there'
        # The remote side: its own agent state (the context's OBAGENT_HOME and server name), the module
        # under test, a vault, registration, passphrase, a policy with one missing inclusion, a backup.
        Invoke-Command -Session $session -ArgumentList $env:OBAGENT_TEST_MODULE, $ctx, $data, $missing -ScriptBlock {
            param($module, $ctx, $data, $missing)
            $ErrorActionPreference = 'Stop'
            $env:OBAGENT_HOME = $ctx.Home
            $env:OBAGENT_SERVER_NAME = $ctx.ServerName
            Import-Module (Join-Path $module 'OBAgent.psd1')
            New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
            $cred = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
            Start-OBRegistration -VaultCredentials $cred.FullName -Confirm:$false | Out-Null
            $pp = ConvertTo-SecureString 'Remoting-Test-Passphrase-0123' -AsPlainText -Force
            Set-OBMachineSetting -EncryptionPassphrase $pp -WarningAction SilentlyContinue | Out-Null
            $p = New-OBPolicy
            Add-OBFileSpec -Policy $p -FileSpec (New-OBFileSpec -FileSpec $data, $missing) -WarningAction SilentlyContinue | Out-Null
            Set-OBSchedule -Policy $p -Schedule (New-OBSchedule -DaysOfWeek Sunday -TimesOfDay 21:00) | Out-Null
            Set-OBRetentionPolicy -Policy $p -RetentionPolicy (New-OBRetentionPolicy -RetentionDays 7) | Out-Null
            Set-OBPolicy -Policy $p -Confirm:$false -WarningAction SilentlyContinue | Out-Null
            Get-OBPolicy | Start-OBBackup -WarningAction SilentlyContinue | Out-Null
        }
    }

    AfterAll {
        if ($session) { Remove-PSSession $session -ErrorAction SilentlyContinue }
        if ($sshd -and -not $sshd.Process.HasExited) { Stop-Process -Id $sshd.Process.Id -Force -ErrorAction SilentlyContinue }
        Remove-TestContext $ctx
    }

    It 'a job arrives with its state, times, datasource progress and failed files' {
        $job = Invoke-Command -Session $session { Get-OBJob -Previous 1 }
        $job.PSObject.TypeNames[0] | Should -Be 'Deserialized.OBAgent.OBJob'
        $job.JobStatus.JobState | Should -Be 'CompletedWithWarning'
        $job.JobStatus.StartTime | Should -BeOfType [DateTime]
        $job.JobStatus.EndTime | Should -BeOfType [DateTime]
        $job.JobStatus.StartTime | Should -BeLessOrEqual $job.JobStatus.EndTime
        $job.JobStatus.ErrorInfo.PSObject.Properties.Name | Should -Contain 'ErrorCode'
        $job.JobStatus.DatasourceStatus[0].ByteProgress.Progress | Should -BeGreaterThan 0
        $job.JobStatus.DatasourceStatus[0].Datasource.DataSourceName | Should -Not -BeNullOrEmpty
        $job.FailedFileCount | Should -Be 1
        $job.FailedFiles[0].Path | Should -Be $missing
        $job.FailedFiles[0].Reason | Should -Not -BeNullOrEmpty
    }

    It 'machine settings arrive with the encryption and proxy state' {
        $s = Invoke-Command -Session $session { Get-OBMachineSetting }
        [string]$s.EncryptionSetting.EncryptionKeyStatus | Should -Be 'Set'
        $s.ProxySetting.Enabled | Should -BeOfType [bool]
        $s.ProxySetting.Enabled | Should -BeFalse
        $s.ThrottleSetting.Enabled | Should -BeOfType [bool]
    }

    It 'the policy arrives with its data sources, file specs, schedule and retention' {
        $p = Invoke-Command -Session $session { Get-OBPolicy }
        $p.PolicyName | Should -Not -BeNullOrEmpty
        @($p.DsList).Count | Should -BeGreaterOrEqual 1
        $specs = @($p.DsList | ForEach-Object { $_.FileSpec } | ForEach-Object { $_.FileSpec })
        $specs | Should -Contain $data
        $p.DsList[0].DatasourceId | Should -BeGreaterThan 0
        # A deserialized enum is its number (PowerShell's rule, MARS's too): cast it back.
        [DayOfWeek[]]@($p.BackupSchedule.ScheduleRunDays) | Should -Contain ([DayOfWeek]::Sunday)
        @($p.BackupSchedule.ScheduleRunTimes)[0].TimeOfDay | Should -Be ([TimeSpan]'21:00')
        $p.RetentionPolicy.RetentionDays | Should -Be 7
    }

    It 'Get-OBPolicy | Start-OBBackup runs through Import-PSSession in a fresh PowerShell' {
        # A fresh process without the module: the commands are Import-PSSession's proxies, and the policy
        # that Get-OBPolicy returns there is deserialized, so Start-OBBackup binds it by PolicyName.
        $script = Join-Path $ctx.Root 'implicit.ps1'
        @'
param([int] $Port, [string] $Key, [string] $User, [string] $Module, [string] $ObHome, [string] $Server)
$ErrorActionPreference = 'Stop'
$s = New-PSSession -HostName 127.0.0.1 -Port $Port -UserName $User -KeyFilePath $Key -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' }
Invoke-Command -Session $s -ArgumentList $Module, $ObHome, $Server {
    param($m, $h, $n)
    $env:OBAGENT_HOME = $h; $env:OBAGENT_SERVER_NAME = $n
    Import-Module (Join-Path $m 'OBAgent.psd1')
}
Import-PSSession -Session $s -Module OBAgent -AllowClobber | Out-Null
if (Get-Module -Name OBAgent) { throw 'the real module is loaded here; the test must use the proxies' }
$before = @(Get-OBJob -Previous 10).Count
$out = @(Get-OBPolicy | Start-OBBackup -WarningAction SilentlyContinue)
$last = Get-OBJob -Previous 1
[pscustomobject]@{ Before = $before; After = @(Get-OBJob -Previous 10).Count; LastLine = [string]$out[-1]; State = [string]$last.JobStatus.JobState } | ConvertTo-Json -Compress
Remove-PSSession $s
'@ | Set-Content -LiteralPath $script
        $json = & (Get-PwshPath) -NoProfile -NonInteractive -File $script -Port $sshd.Port -Key $sshd.Key -User (id -un) `
            -Module $env:OBAGENT_TEST_MODULE -ObHome $ctx.Home -Server $ctx.ServerName 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($json -join "`n")
        $r = ($json | Select-Object -Last 1) | ConvertFrom-Json
        $r.After | Should -Be ($r.Before + 1)
        $r.State | Should -Be 'CompletedWithWarning'
        $r.LastLine | Should -Match 'completed with warnings'
    }
}
