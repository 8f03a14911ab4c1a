# The DSC resources of OBAgentDsc.psm1 (nested in the module), called directly: Test is false,
# Set, Test is true, Get matches, and a changed setting makes Test false again.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    # The classes are exported by 'using module'; a script block built at run time can use the
    # module under test's path.
    $dsc = Join-Path $env:OBAGENT_TEST_MODULE 'OBAgentDsc.psm1'
    . ([scriptblock]::Create("using module '$dsc'"))
    function New-Resource { param([string] $Name) (. ([scriptblock]::Create("using module '$dsc'; [$Name]::new()"))) }
    # A change to the configuration makes Test false; Set makes it true again.
    function Assert-DriftFixed {
        param($Resource, [scriptblock] $Change, [string] $Because)
        . $Change
        $Resource.Test() | Should -BeFalse -Because "$Because is drift"
        $Resource.Set()
        $Resource.Test() | Should -BeTrue -Because "Set applied $Because"
    }
    function Set-LongTermRetention {
        param($r)
        # The day-of-month forms need a schedule that runs every day.
        $r.DaysOfWeek = [DayOfWeek[]](0..6)
        $r.TimesOfDay = @('02:00', '14:00')
        $r.RetentionDays = 14
        $r.RetentionWeeks = 8
        $r.WeekDaysOfWeek = @('Sunday')
        $r.WeekTimesOfDay = @('02:00')
        $r.RetentionMonths = 12
        $r.MonthDaysOfMonth = @('1', 'Last')
        $r.MonthTimesOfDay = @('02:00')
        $r.RetentionYears = 3
        $r.YearMonthsOfYear = @('March')
        $r.YearDaysOfMonth = @('1')
        $r.YearTimesOfDay = @('02:00')
    }
}

Describe 'DSC resources in the module' {
    It 'the manifest exports the resources' {
        $m = Import-PowerShellDataFile -Path (Join-Path $env:OBAGENT_TEST_MODULE 'OBAgent.psd1')
        @($m.NestedModules) | Should -Contain 'OBAgentDsc.psm1'
        foreach ($n in 'OBFilePolicy', 'OBSystemStatePolicy', 'OBRegistration', 'OBMachineSetting') {
            @($m.DscResourcesToExport) | Should -Contain $n
            (New-Resource $n).GetType().GetCustomAttributes($true).TypeId.Name | Should -Contain 'DscResourceAttribute'
        }
    }
}

Describe 'OBRegistration' {
    BeforeEach { $ctx = New-TestContext }
    AfterEach { Remove-TestContext $ctx }

    It 'is false before registration, registers on Set, then true without using the file again' {
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $file = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        $r = New-Resource 'OBRegistration'
        $r.VaultCredentials = $file.FullName
        $r.Test() | Should -BeFalse
        $r.Get().Registered | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        $r.Get().ServerName | Should -Be $ctx.ServerName
        Remove-Item -LiteralPath $file.FullName
        $r.Test() | Should -BeTrue
    }

    It 'tests the vault of the credentials file: registered to A, a resource for B is false, for A true even once the file expired or is gone' {
        $fileA = Register-TestServer $ctx
        $vaultB = Join-Path $ctx.Root 'vaultB'
        $credsB = Join-Path $ctx.Root 'credsB'
        New-Item -ItemType Directory -Path $credsB | Out-Null
        New-OBVault -Name 'OtherVault' -Path $vaultB | Out-Null
        $fileB = Get-OBVaultCredentials -Path $vaultB -OutputPath $credsB

        $s = Get-OBMachineSetting
        $s.VaultName | Should -Be $ctx.VaultName
        $s.VaultId | Should -Not -BeNullOrEmpty
        [OBAgent.OBCredentialsFile]::ReadVault($fileA.FullName).VaultId | Should -Be $s.VaultId
        [OBAgent.OBCredentialsFile]::ReadVault($fileB.FullName).VaultId | Should -Not -Be $s.VaultId

        $b = New-Resource 'OBRegistration'
        $b.VaultCredentials = $fileB.FullName
        $b.Test() | Should -BeFalse
        $g = $b.Get()
        $g.Registered | Should -BeTrue
        $g.VaultName | Should -Be $ctx.VaultName
        $g.VaultId | Should -Be $s.VaultId
        # Set cannot move the server to another vault: the engine refuses, saying which vault it is in.
        { $b.Set() } | Should -Throw "*$($ctx.VaultName)*"
        $b.Test() | Should -BeFalse

        $a = New-Resource 'OBRegistration'
        $a.VaultCredentials = $fileA.FullName
        $a.Test() | Should -BeTrue
        # The file expired (credentials are valid 10 days at most): it still names vault A.
        $env:OBAGENT_NOW = Get-TestTime ([TimeSpan]::FromDays(30))
        $err = Get-ErrorRecord { Start-OBRegistration -VaultCredentials $fileA.FullName -Confirm:$false }
        $err | Should -Not -BeNullOrEmpty
        $a.Test() | Should -BeTrue
        $b.Test() | Should -BeFalse
        # The file is gone: registered is the test.
        Remove-Item -LiteralPath $fileA.FullName
        $a.Test() | Should -BeTrue
    }

    It 'Get of an unregistered server has no vault; Test is false for any file' {
        New-OBVault -Name $ctx.VaultName -Path $ctx.Vault | Out-Null
        $file = Get-OBVaultCredentials -Path $ctx.Vault -OutputPath $ctx.Creds
        (Get-OBMachineSetting).VaultId | Should -BeNullOrEmpty
        (Get-OBMachineSetting).VaultName | Should -BeNullOrEmpty
        $r = New-Resource 'OBRegistration'
        $r.VaultCredentials = $file.FullName
        $r.Get().VaultId | Should -BeNullOrEmpty
        $r.Test() | Should -BeFalse
    }

    It 'Test with a malformed credentials file fails with an error that names the file problem' {
        Register-TestServer $ctx | Out-Null
        $bad = Join-Path $ctx.Creds 'bad.VaultCredentials'
        Set-Content -LiteralPath $bad -Value 'not a credentials file'
        $r = New-Resource 'OBRegistration'
        $r.VaultCredentials = $bad
        { $r.Test() } | Should -Throw '*credentials*'
    }

    It 'Set with a missing credentials file says to download a fresh one' {
        $r = New-Resource 'OBRegistration'
        $r.VaultCredentials = Join-Path $ctx.Root 'missing.VaultCredentials'
        { $r.Set() } | Should -Throw '*Get-OBVaultCredentials*' -ErrorId 'VaultCredentialsNotFound,OBRegistration'
    }
}

Describe 'OBFilePolicy' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path (Join-Path $data 'cache') -Force | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'Test false, Set, Test true, Get matches; a changed setting makes Test false; Absent removes' {
        $r = New-Resource 'OBFilePolicy'
        $r.FileSpec = @($data)
        $r.ExcludeSpec = @("$data/cache")
        $r.DaysOfWeek = @('Monday', 'Thursday')
        $r.TimesOfDay = @('02:30')
        $r.RetentionDays = 14
        $r.Test() | Should -BeFalse
        $r.Get().Ensure | Should -Be 'Absent'
        $r.Set()
        $r.Test() | Should -BeTrue
        $g = $r.Get()
        $g.Ensure | Should -Be 'Present'
        $g.FileSpec | Should -Be @($data)
        $g.ExcludeSpec | Should -Be @("$data/cache")
        @($g.DaysOfWeek) | Should -Be @('Monday', 'Thursday')
        $g.TimesOfDay | Should -Be @('02:30')
        $g.RetentionDays | Should -Be 14
        @(Get-OBPolicy | Get-OBFileSpec).Count | Should -Be 2

        $r.RetentionDays = 21
        $r.Test() | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        (Get-OBPolicy).RetentionPolicy.RetentionDays | Should -Be 21

        $r.TimesOfDay = @('03:00')
        $r.Test() | Should -BeFalse
        $r.Set(); $r.Test() | Should -BeTrue

        $r.RetentionWeeks = 6
        $r.WeekDaysOfWeek = @('Monday')
        $r.WeekTimesOfDay = @('03:00')
        $r.Test() | Should -BeFalse
        $r.Set(); $r.Test() | Should -BeTrue
        (Get-OBPolicy).RetentionPolicy.WeeklyLTRSchedule.RetentionCount | Should -Be 6
        $r.Get().RetentionWeeks | Should -Be 6
        $r.RetentionWeeks = 7
        $r.Test() | Should -BeFalse
        $r.RetentionWeeks = 6

        $r.Ensure = 'Absent'
        $r.Test() | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        Get-OBPolicy | Should -BeNullOrEmpty
    }

    It 'compares the monthly and yearly long-term retention: days, weeks, days of week, months, times and counts' {
        $r = New-Resource 'OBFilePolicy'
        $r.FileSpec = @($data)
        Set-LongTermRetention $r
        $r.Test() | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        $g = $r.Get()
        $g.RetentionMonths | Should -Be 12
        @($g.MonthDaysOfMonth) | Should -Be @('1', 'Last')
        $g.MonthTimesOfDay | Should -Be @('02:00')
        $g.RetentionYears | Should -Be 3
        @($g.YearMonthsOfYear) | Should -Be @('March')
        @($g.YearDaysOfMonth) | Should -Be @('1')
        $g.WeekTimesOfDay | Should -Be @('02:00')
        $rp = (Get-OBPolicy).RetentionPolicy
        $rp.MonthlyLTRSchedule.DaysOfMonth | Should -Be @('1', 'Last')
        $rp.YearlyLTRSchedule.MonthsOfYear | Should -Be @('March')

        Assert-DriftFixed $r { $r.MonthDaysOfMonth = @('15') } 'a monthly day'
        (Get-OBPolicy).RetentionPolicy.MonthlyLTRSchedule.DaysOfMonth | Should -Be @('15')
        Assert-DriftFixed $r { $r.MonthTimesOfDay = @('14:00') } 'a monthly time'
        (Get-OBPolicy).RetentionPolicy.MonthlyLTRSchedule.TimesOfDay | Should -Be @([TimeSpan]'14:00')
        Assert-DriftFixed $r { $r.RetentionMonths = 13 } 'the monthly count'
        # The week form; without weeks it is the first week, as New-OBRetentionPolicy: then Test is true.
        Assert-DriftFixed $r { $r.MonthDaysOfMonth = $null; $r.MonthDaysOfWeek = @('Sunday') } 'the monthly week form'
        @($r.Get().MonthWeeksOfMonth) | Should -Be @('First')
        Assert-DriftFixed $r { $r.MonthWeeksOfMonth = @('Last') } 'a week of the month'
        Assert-DriftFixed $r { $r.MonthDaysOfWeek = @('Wednesday') } 'a monthly day of the week'
        (Get-OBPolicy).RetentionPolicy.MonthlyLTRSchedule.WeeksOfMonth | Should -Be @('Last')
        (Get-OBPolicy).RetentionPolicy.MonthlyLTRSchedule.DaysOfWeek | Should -Be @('Wednesday')

        Assert-DriftFixed $r { $r.YearMonthsOfYear = @('July', 'January') } 'the months of the year'
        @((Get-OBPolicy).RetentionPolicy.YearlyLTRSchedule.MonthsOfYear) | Should -Be @('January', 'July')
        $r.YearMonthsOfYear = @('1', '7')
        $r.Test() | Should -BeTrue -Because 'months by number are the same months'
        Assert-DriftFixed $r { $r.YearDaysOfMonth = @('Last') } 'a yearly day'
        Assert-DriftFixed $r { $r.YearTimesOfDay = @('14:00') } 'a yearly time'
        Assert-DriftFixed $r { $r.RetentionYears = 5 } 'the yearly count'
        Assert-DriftFixed $r { $r.YearDaysOfMonth = $null; $r.YearDaysOfWeek = @('Sunday'); $r.YearWeeksOfMonth = @('Second') } 'the yearly week form'
        Assert-DriftFixed $r { $r.YearDaysOfWeek = @('Wednesday') } 'a yearly day of the week'
        Assert-DriftFixed $r { $r.YearWeeksOfMonth = @('Fourth') } 'a yearly week of the month'
        Assert-DriftFixed $r { $r.WeekTimesOfDay = @('14:00') } 'a weekly time'
        $y = (Get-OBPolicy).RetentionPolicy.YearlyLTRSchedule
        $y.RetentionCount | Should -Be 5
        $y.WeeksOfMonth | Should -Be @('Fourth')
        $y.DaysOfWeek | Should -Be @('Wednesday')
        $y.TimesOfDay | Should -Be @([TimeSpan]'14:00')
        (Get-OBPolicy).RetentionPolicy.WeeklyLTRSchedule.TimesOfDay | Should -Be @([TimeSpan]'14:00')

        # Yearly without months is January, as New-OBRetentionPolicy: Test is true after Set.
        Assert-DriftFixed $r { $r.YearMonthsOfYear = $null } 'the months left out'
        @($r.Get().YearMonthsOfYear) | Should -Be @('January')
        # A resource of the same settings built anew agrees (nothing is kept in the object).
        $again = New-Resource 'OBFilePolicy'
        foreach ($n in ($r | Get-Member -MemberType Property).Name) { $again.$n = $r.$n }
        $again.Test() | Should -BeTrue
    }

    It 'Set without FileSpec says what to give' {
        $r = New-Resource 'OBFilePolicy'
        { $r.Set() } | Should -Throw '*FileSpec*'
    }
}

Describe 'OBSystemStatePolicy' {
    BeforeEach { $ctx = New-TestContext; Register-TestServer $ctx | Out-Null }
    AfterEach { Remove-TestContext $ctx }

    It 'Test false, Set, Test true, Get matches; a changed setting makes Test false' {
        $r = New-Resource 'OBSystemStatePolicy'
        $r.DaysOfWeek = @('Saturday')
        $r.TimesOfDay = @('22:00')
        $r.RetentionDays = 30
        $r.Test() | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        $g = $r.Get()
        $g.Ensure | Should -Be 'Present'
        @($g.DaysOfWeek) | Should -Be @('Saturday')
        $g.TimesOfDay | Should -Be @('22:00')
        $r.DaysOfWeek = @('Sunday')
        $r.Test() | Should -BeFalse
        $r.Set(); $r.Test() | Should -BeTrue
        $r.Ensure = 'Absent'
        $r.Set(); $r.Test() | Should -BeTrue
        Get-OBSystemStatePolicy | Should -BeNullOrEmpty
    }
}

Describe 'OBSystemStatePolicy long-term retention' {
    BeforeEach { $ctx = New-TestContext; Register-TestServer $ctx | Out-Null }
    AfterEach { Remove-TestContext $ctx }

    It 'a change of any monthly or yearly field makes Test false and Set fixes it; the file policy is not touched' {
        $r = New-Resource 'OBSystemStatePolicy'
        Set-LongTermRetention $r
        $r.TimesOfDay = @('02:00') # a System State schedule runs once a day
        $r.Test() | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        Assert-DriftFixed $r { $r.MonthDaysOfMonth = @('2', '3') } 'the monthly days'
        Assert-DriftFixed $r { $r.YearMonthsOfYear = @('December') } 'the yearly months'
        Assert-DriftFixed $r { $r.YearDaysOfMonth = $null; $r.YearDaysOfWeek = @('Sunday') } 'the yearly week form (first week)'
        Assert-DriftFixed $r { $r.RetentionYears = 4 } 'the yearly count'
        $y = (Get-OBSystemStatePolicy).RetentionPolicy.YearlyLTRSchedule
        $y.MonthsOfYear | Should -Be @('December')
        $y.WeeksOfMonth | Should -Be @('First')
        $y.DaysOfWeek | Should -Be @('Sunday')
        $y.RetentionCount | Should -Be 4
        (Get-OBSystemStatePolicy).RetentionPolicy.MonthlyLTRSchedule.DaysOfMonth | Should -Be @('2', '3')
        Get-OBPolicy | Should -BeNullOrEmpty
    }
}

Describe 'OBMachineSetting' {
    BeforeEach { $ctx = New-TestContext; Register-TestServer $ctx | Out-Null }
    AfterEach { Remove-TestContext $ctx }

    It 'Test false, Set (passphrase from a PSCredential, throttling), Test true, Get matches; a changed setting makes Test false' {
        $r = New-Resource 'OBMachineSetting'
        $r.Passphrase = [PSCredential]::new('passphrase', (ConvertTo-TestSecret 'Dsc-Passphrase-0123456789'))
        $r.WorkDay = @('Monday', 'Tuesday')
        $r.StartWorkHour = '09:00'
        $r.EndWorkHour = '17:00'
        $r.WorkHourBandwidth = 512000
        $r.NonWorkHourBandwidth = 2048000
        $r.Test() | Should -BeFalse
        $r.Get().EncryptionKeyStatus | Should -Be 'NotSet'
        $r.Set()
        $r.Test() | Should -BeTrue
        $g = $r.Get()
        $g.EncryptionKeyStatus | Should -Be 'Set'
        $g.ThrottleEnabled | Should -BeTrue
        $g.StartWorkHour | Should -Be '09:00'
        $g.WorkHourBandwidth | Should -Be 512000
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'Set'
        $r.WorkHourBandwidth = 256000
        $r.Test() | Should -BeFalse
        $r.Set(); $r.Test() | Should -BeTrue
    }
    It 'tests the passphrase set here, not only that one is set: another is false, Set changes it with a PIN, the old one no longer opens' {
        $pp1 = 'Dsc-Passphrase-First-0123456789'
        $pp2 = 'Dsc-Passphrase-Second-9876543210'
        $one = New-Resource 'OBMachineSetting'
        $one.Passphrase = [PSCredential]::new('passphrase', (ConvertTo-TestSecret $pp1))
        $one.Test() | Should -BeFalse
        $one.Set()
        $one.Test() | Should -BeTrue
        $one.Get().PassphraseMatches | Should -BeTrue

        # The configuration now names another passphrase: drift.
        $two = New-Resource 'OBMachineSetting'
        $two.Passphrase = [PSCredential]::new('passphrase', (ConvertTo-TestSecret $pp2))
        $two.Test() | Should -BeFalse
        $g = $two.Get()
        $g.EncryptionKeyStatus | Should -Be 'Set'
        $g.PassphraseMatches | Should -BeFalse
        $one.Test() | Should -BeTrue -Because 'a check changes nothing'

        # Changing it needs the vault owner's PIN, as Set-OBMachineSetting does.
        $err = Get-ErrorRecord { $two.Set() }
        $err | Should -Not -BeNullOrEmpty
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.SetOBMachineSettingCommand'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.Exception.Message | Should -BeLike '*security PIN*'
        $one.Test() | Should -BeTrue
        $two.Test() | Should -BeFalse

        $two.SecurityPin = (New-OBSecurityPin -Path $ctx.Vault).SecurityPin
        $two.Set()
        $two.Test() | Should -BeTrue
        $two.Get().PassphraseMatches | Should -BeTrue
        $one.Test() | Should -BeFalse
        $one.Get().PassphraseMatches | Should -BeFalse

        # The old passphrase no longer opens this server's key: a fresh state folder of the same server refuses it.
        $env:OBAGENT_HOME = Join-Path $ctx.Root 'home-again'
        Start-OBRegistration -VaultCredentials (Get-ChildItem -LiteralPath $ctx.Creds -Filter '*.VaultCredentials' | Select-Object -First 1).FullName -Confirm:$false | Out-Null
        $old = Get-ErrorRecord { Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $pp1) -WarningAction SilentlyContinue }
        $old.FullyQualifiedErrorId | Should -Be 'PassphraseIncorrect,OBAgent.Commands.SetOBMachineSettingCommand'
        $two.Test() | Should -BeFalse -Because 'no passphrase is set in the new state folder yet'
        $two.Set()
        $two.Test() | Should -BeTrue

        # Never stored: neither passphrase is in the state folders or the vault.
        Test-SecretInFiles -Path $ctx.Root -Text $pp1 | Should -BeNullOrEmpty
        Test-SecretInFiles -Path $ctx.Root -Text $pp2 | Should -BeNullOrEmpty
    }

    It '[OBAgent.OBPassphrase]::Test on an unregistered server fails with ServerNotRegistered; Test of the resource is false' {
        $env:OBAGENT_HOME = Join-Path $ctx.Root 'unregistered'
        $r = New-Resource 'OBMachineSetting'
        $r.Passphrase = [PSCredential]::new('passphrase', (ConvertTo-TestSecret 'Dsc-Passphrase-0123456789'))
        $err = Get-ErrorRecord { [OBAgent.OBPassphrase]::Test($r.Passphrase.Password) }
        $err.Exception.InnerException.ErrorId | Should -Be 'ServerNotRegistered'
        $r.Test() | Should -BeFalse
    }
    It 'proxy: Test false, Set, Test true, Get matches; a changed port, user or password presence makes Test false; NoProxy' {
        $r = New-Resource 'OBMachineSetting'
        $r.ProxyServer = 'proxy.contoso.test'
        $r.ProxyPort = 3128
        $r.ProxyPassword = [PSCredential]::new('backup', (ConvertTo-TestSecret 'Proxy-Secret-Dsc-4455'))
        $r.Test() | Should -BeFalse
        $r.Get().ProxyEnabled | Should -BeFalse
        $r.Set()
        $r.Test() | Should -BeTrue
        $g = $r.Get()
        $g.ProxyEnabled | Should -BeTrue
        $g.ProxyServer | Should -Be 'proxy.contoso.test'
        $g.ProxyPort | Should -Be 3128
        $g.ProxyUsername | Should -Be 'backup' -Because 'the user name of ProxyPassword is the proxy user when ProxyUsername is empty'
        $g.HasProxyPassword | Should -BeTrue
        $g.ProxyPassword | Should -BeNullOrEmpty -Because 'the password is never read back'
        $p = (Get-OBMachineSetting).ProxySetting
        $p.ProxyServer | Should -Be 'proxy.contoso.test'
        $p.ProxyUsername | Should -Be 'backup'
        $p.HasProxyPassword | Should -BeTrue

        $r.ProxyPort = 8080
        $r.Test() | Should -BeFalse
        $r.Set(); $r.Test() | Should -BeTrue
        (Get-OBMachineSetting).ProxySetting.ProxyPort | Should -Be 8080

        $r.ProxyUsername = 'other'
        $r.Test() | Should -BeFalse
        $r.Set(); $r.Test() | Should -BeTrue
        (Get-OBMachineSetting).ProxySetting.ProxyUsername | Should -Be 'other'

        # The same proxy without a password: the stored one must go.
        $bare = New-Resource 'OBMachineSetting'
        $bare.ProxyServer = 'proxy.contoso.test'
        $bare.ProxyPort = 8080
        $bare.ProxyUsername = 'other'
        $bare.Test() | Should -BeFalse
        $bare.Set(); $bare.Test() | Should -BeTrue
        (Get-OBMachineSetting).ProxySetting.HasProxyPassword | Should -BeFalse
        $r.Test() | Should -BeFalse

        # A resource that names no proxy leaves it alone.
        (New-Resource 'OBMachineSetting').Test() | Should -BeTrue

        $none = New-Resource 'OBMachineSetting'
        $none.NoProxy = $true
        $none.Test() | Should -BeFalse
        $none.Set()
        $none.Test() | Should -BeTrue
        (Get-OBMachineSetting).ProxySetting.Enabled | Should -BeFalse
        $none.Get().NoProxy | Should -BeTrue
        $bare.Test() | Should -BeFalse
    }

    It 'proxy: contradictory or incomplete settings fail with InvalidArgument ErrorRecords' {
        $r = New-Resource 'OBMachineSetting'
        $r.NoProxy = $true
        $r.ProxyServer = 'proxy.contoso.test'
        $r.ProxyPort = 3128
        $err = Get-ErrorRecord { $r.Test() }
        $err.FullyQualifiedErrorId | Should -Be 'ProxyConflict,OBMachineSetting'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*NoProxy*ProxyServer*'

        $r = New-Resource 'OBMachineSetting'
        $r.ProxyPort = 3128
        $err = Get-ErrorRecord { $r.Set() }
        $err.FullyQualifiedErrorId | Should -Be 'ProxyServerMissing,OBMachineSetting'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'

        $r = New-Resource 'OBMachineSetting'
        $r.ProxyServer = 'proxy.contoso.test'
        $err = Get-ErrorRecord { $r.Test() }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidProxyPort,OBMachineSetting'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        (Get-OBMachineSetting).ProxySetting.Enabled | Should -BeFalse
    }
}

Describe 'Errors of the resources are ErrorRecords with an ErrorId and a category' {
    BeforeEach {
        $ctx = New-TestContext
        $data = Join-Path $ctx.Root 'data'
        New-Item -ItemType Directory -Path $data | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'OBRegistration: a missing credentials file is ObjectNotFound, a malformed one the engine''s InvalidArgument, Absent NotImplemented' {
        $r = New-Resource 'OBRegistration'
        $r.VaultCredentials = Join-Path $ctx.Root 'missing.VaultCredentials'
        $err = Get-ErrorRecord { $r.Set() }
        $err.FullyQualifiedErrorId | Should -Be 'VaultCredentialsNotFound,OBRegistration'
        $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        $err.TargetObject | Should -Be $r.VaultCredentials
        $err.Exception.Message | Should -BeLike '*Get-OBVaultCredentials*'

        Register-TestServer $ctx | Out-Null
        $bad = Join-Path $ctx.Creds 'bad.VaultCredentials'
        Set-Content -LiteralPath $bad -Value 'not a credentials file'
        $r.VaultCredentials = $bad
        $err = Get-ErrorRecord { $r.Test() }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBRegistration'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.NativeName | Should -Be 'OB_EINVALID'

        $r.Ensure = 'Absent'
        $err = Get-ErrorRecord { $r.Set() }
        $err.FullyQualifiedErrorId | Should -Be 'UnregisterNotSupported,OBRegistration'
        $err.CategoryInfo.Category | Should -Be 'NotImplemented'
    }

    It 'OBFilePolicy: a bad time, day of month or month is InvalidArgument before anything is committed; an engine refusal keeps its record' {
        Register-TestServer $ctx | Out-Null
        $cases = @(
            @{ Set = { param($r) $r.TimesOfDay = @('25:00') }; Id = 'InvalidTimeOfDay' },
            @{ Set = { param($r) $r.TimesOfDay = @('9am') }; Id = 'InvalidTimeOfDay' },
            @{ Set = { param($r) $r.DaysOfWeek = [DayOfWeek[]](0..6); $r.RetentionMonths = 12; $r.MonthDaysOfMonth = @('30'); $r.MonthTimesOfDay = @('21:00') }; Id = 'InvalidDayOfMonth' },
            @{ Set = { param($r) $r.DaysOfWeek = [DayOfWeek[]](0..6); $r.RetentionYears = 2; $r.YearMonthsOfYear = @('Smarch'); $r.YearDaysOfMonth = @('1'); $r.YearTimesOfDay = @('21:00') }; Id = 'InvalidMonthOfYear' },
            @{ Set = { param($r) $r.RetentionWeeks = 8; $r.WeekDaysOfWeek = @('Sunday'); $r.WeekTimesOfDay = @('21:60') }; Id = 'InvalidTimeOfDay' }
        )
        foreach ($c in $cases) {
            $r = New-Resource 'OBFilePolicy'
            $r.FileSpec = @($data)
            & $c.Set $r
            $err = Get-ErrorRecord { $r.Set() }
            $err.FullyQualifiedErrorId | Should -Be "$($c.Id),OBFilePolicy"
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike 'OBFilePolicy: *give*'
            Get-OBPolicy | Should -BeNullOrEmpty
        }
        # Test of a bad time fails too, rather than reading as drift.
        $r = New-Resource 'OBFilePolicy'
        $r.FileSpec = @($data)
        $r.Set()
        $r.TimesOfDay = @('24:00')
        (Get-ErrorRecord { $r.Test() }).FullyQualifiedErrorId | Should -Be 'InvalidTimeOfDay,OBFilePolicy'

        $r = New-Resource 'OBFilePolicy'
        $err = Get-ErrorRecord { $r.Set() }
        $err.FullyQualifiedErrorId | Should -Be 'FileSpecMissing,OBFilePolicy'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'

        # What the engine refuses comes with the cmdlet's own ErrorRecord.
        $r = New-Resource 'OBFilePolicy'
        $r.FileSpec = @($data)
        $r.WeeklyFrequency = 9
        $err = Get-ErrorRecord { $r.Set() }
        $err.FullyQualifiedErrorId | Should -BeLike '*,OBAgent.Commands.NewOBScheduleCommand'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
    }

    It 'OBMachineSetting: the wrong passphrase for this server''s key is an AuthenticationError; incomplete throttling InvalidArgument' {
        Register-TestServer $ctx | Out-Null
        Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret 'The-Real-Passphrase-0123456789') -WarningAction SilentlyContinue | Out-Null
        # The same server again from a fresh state folder: only its passphrase opens its key.
        $env:OBAGENT_HOME = Join-Path $ctx.Root 'home-again'
        Start-OBRegistration -VaultCredentials (Get-ChildItem -LiteralPath $ctx.Creds -Filter '*.VaultCredentials' | Select-Object -First 1).FullName -Confirm:$false | Out-Null
        $r = New-Resource 'OBMachineSetting'
        $r.Passphrase = [PSCredential]::new('passphrase', (ConvertTo-TestSecret 'Not-The-Passphrase-0123456789'))
        $r.Test() | Should -BeFalse
        $err = Get-ErrorRecord { $r.Set() }
        $err.FullyQualifiedErrorId | Should -Be 'PassphraseIncorrect,OBAgent.Commands.SetOBMachineSettingCommand'
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $r.Get().EncryptionKeyStatus | Should -Be 'NotSet'

        $t = New-Resource 'OBMachineSetting'
        $t.WorkHourBandwidth = 512000
        $t.WorkDay = @('Sunday')
        $err = Get-ErrorRecord { $t.Test() }
        $err.FullyQualifiedErrorId | Should -Be 'ThrottleIncomplete,OBMachineSetting'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*StartWorkHour, EndWorkHour, NonWorkHourBandwidth missing*'
        $t.StartWorkHour = '09:00'; $t.EndWorkHour = 'five'; $t.NonWorkHourBandwidth = 1024000
        $err = Get-ErrorRecord { $t.Set() }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidWorkHour,OBMachineSetting'
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        (Get-OBMachineSetting).ThrottleSetting.Enabled | Should -BeFalse
    }

    It 'a resource on an unregistered server fails with the engine''s ServerNotRegistered, or tests false' {
        $p = New-Resource 'OBFilePolicy'
        $p.FileSpec = @($data)
        $err = Get-ErrorRecord { $p.Set() }
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.FullyQualifiedErrorId | Should -BeLike 'ServerNotRegistered,*'
    }
}
