# Class-based DSC resources of obagent (docs/DSC.md). Each resource calls the module's own
# cmdlets; the engine does the work. Get returns the current state, Test compares it with the
# desired one, Set makes it so.

enum Ensure { Present; Absent }

# Every error a resource raises itself is an ErrorRecord with a category and an ErrorId
# "<What>,<Resource>" (docs/DSC.md); errors of the cmdlets it calls keep their own records.
function New-OBDscError {
    param(
        [string] $Resource,
        [string] $ErrorId,
        [System.Management.Automation.ErrorCategory] $Category,
        [string] $Message,
        [object] $Target,
        [Exception] $Inner
    )
    $ex = switch ($Category) {
        'ObjectNotFound' { [IO.FileNotFoundException]::new($Message, $Inner) }
        'InvalidArgument' { [ArgumentException]::new($Message, $Inner) }
        'NotImplemented' { [NotSupportedException]::new($Message, $Inner) }
        default { [InvalidOperationException]::new($Message, $Inner) }
    }
    [System.Management.Automation.ErrorRecord]::new($ex, "$ErrorId,$Resource", $Category, $Target)
}

# A call into the module's .NET types failed: the engine's OBAgentException (with its ErrorId and
# category, Interop/ErrorMap.cs) becomes the resource's ErrorRecord; anything else is rethrown.
function ConvertFrom-OBDscFailure {
    param([System.Management.Automation.ErrorRecord] $Failure, [string] $Resource, [object] $Target)
    $ex = $Failure.Exception
    while ($ex -and $ex -isnot [OBAgent.OBAgentException]) { $ex = $ex.InnerException }
    if (-not $ex) { return $Failure }
    [System.Management.Automation.ErrorRecord]::new($ex, "$($ex.ErrorId),$Resource", $ex.Category, $Target)
}

# The schedule and retention both policy resources take, and how they are read back and compared.
class OBPolicyBase {
    [DscProperty()] [Ensure] $Ensure = [Ensure]::Present
    [DscProperty()] [DayOfWeek[]] $DaysOfWeek = @([DayOfWeek]::Sunday)
    [DscProperty()] [string[]] $TimesOfDay = @('21:00')
    [DscProperty()] [int] $WeeklyFrequency = 1
    [DscProperty()] [int] $RetentionDays = 30
    [DscProperty()] [int] $RetentionWeeks
    [DscProperty()] [DayOfWeek[]] $WeekDaysOfWeek
    [DscProperty()] [string[]] $WeekTimesOfDay
    [DscProperty()] [int] $RetentionMonths
    [DscProperty()] [int[]] $MonthDaysOfMonth
    [DscProperty()] [string[]] $MonthTimesOfDay
    [DscProperty()] [int] $RetentionYears
    [DscProperty()] [int[]] $YearMonthsOfYear
    [DscProperty()] [int[]] $YearDaysOfMonth
    [DscProperty()] [string[]] $YearTimesOfDay

    hidden [TimeSpan[]] Times([string[]] $t) { return @($t | ForEach-Object { [TimeSpan]::Parse($_, [Globalization.CultureInfo]::InvariantCulture) }) }

    hidden [object] NewSchedule() {
        return New-OBSchedule -DaysOfWeek $this.DaysOfWeek -TimesOfDay $this.Times($this.TimesOfDay) -WeeklyFrequency $this.WeeklyFrequency
    }

    hidden [object] NewRetention() {
        $p = @{ RetentionDays = $this.RetentionDays }
        if ($this.RetentionWeeks) { $p.RetentionWeeklyPolicy = $true; $p.RetentionWeeks = $this.RetentionWeeks; $p.WeekDaysOfWeek = $this.WeekDaysOfWeek; $p.WeekTimesOfDay = $this.Times($this.WeekTimesOfDay) }
        if ($this.RetentionMonths) { $p.RetentionMonthlyPolicy = $true; $p.RetentionMonths = $this.RetentionMonths; $p.MonthDaysOfMonth = $this.MonthDaysOfMonth; $p.MonthTimesOfDay = $this.Times($this.MonthTimesOfDay) }
        if ($this.RetentionYears) { $p.RetentionYearlyPolicy = $true; $p.RetentionYears = $this.RetentionYears; $p.YearMonthsOfYear = $this.YearMonthsOfYear; $p.YearDaysOfMonth = $this.YearDaysOfMonth; $p.YearTimesOfDay = $this.Times($this.YearTimesOfDay) }
        return New-OBRetentionPolicy @p
    }

    # Fills the schedule and retention properties of $into from a committed policy.
    hidden [void] ReadSchedule([object] $policy, [object] $into) {
        $s = $policy.BackupSchedule
        $into.DaysOfWeek = @($s.ScheduleRunDays)
        $into.TimesOfDay = @($s.ScheduleRunTimes | ForEach-Object { $_.ToString('HH:mm', [Globalization.CultureInfo]::InvariantCulture) })
        $into.WeeklyFrequency = $s.ScheduleWeeklyFrequency
        $rp = $policy.RetentionPolicy
        $into.RetentionDays = [int]$rp.RetentionDays
        if ($rp.WeeklyLTRSchedule) {
            $into.RetentionWeeks = [int]$rp.WeeklyLTRSchedule.RetentionCount
            $into.WeekDaysOfWeek = @($rp.WeeklyLTRSchedule.DaysOfWeek)
        }
        if ($rp.MonthlyLTRSchedule) { $into.RetentionMonths = [int]$rp.MonthlyLTRSchedule.RetentionCount }
        if ($rp.YearlyLTRSchedule) { $into.RetentionYears = [int]$rp.YearlyLTRSchedule.RetentionCount }
    }

    hidden [bool] SameSchedule([object] $current) {
        if ($current.Ensure -ne $this.Ensure) { return $false }
        if ($this.Ensure -eq [Ensure]::Absent) { return $true }
        $want = @($this.TimesOfDay | ForEach-Object { $this.Times(@($_))[0].ToString('hh\:mm') }) | Sort-Object
        if ((@($this.DaysOfWeek | Sort-Object) -join ',') -ne (@($current.DaysOfWeek | Sort-Object) -join ',')) { return $false }
        if (($want -join ',') -ne (@($current.TimesOfDay | Sort-Object) -join ',')) { return $false }
        if ($this.WeeklyFrequency -ne $current.WeeklyFrequency) { return $false }
        if ($this.RetentionDays -ne $current.RetentionDays) { return $false }
        # Long-term retention: the counts and the weekly days are compared.
        if ($this.RetentionWeeks -ne $current.RetentionWeeks) { return $false }
        if ($this.RetentionWeeks -and ((@($this.WeekDaysOfWeek | Sort-Object) -join ',') -ne (@($current.WeekDaysOfWeek | Sort-Object) -join ','))) { return $false }
        if ($this.RetentionMonths -ne $current.RetentionMonths) { return $false }
        if ($this.RetentionYears -ne $current.RetentionYears) { return $false }
        return $true
    }
}

[DscResource()]
class OBFilePolicy : OBPolicyBase {
    # The resource has one instance per machine (MARS has one file policy): Key is a label.
    [DscProperty(Key)] [string] $Name = 'FilePolicy'
    [DscProperty()] [string[]] $FileSpec
    [DscProperty()] [string[]] $ExcludeSpec

    [OBFilePolicy] Get() {
        $r = [OBFilePolicy]::new()
        $r.Name = $this.Name
        $p = Get-OBPolicy
        if (-not $p) { $r.Ensure = [Ensure]::Absent; $r.FileSpec = @(); $r.ExcludeSpec = @(); return $r }
        $r.Ensure = [Ensure]::Present
        $specs = @($p | Get-OBFileSpec -ErrorAction Stop)
        $r.FileSpec = @($specs | Where-Object { -not $_.IsExclude } | ForEach-Object { $_.FileSpec })
        $r.ExcludeSpec = @($specs | Where-Object { $_.IsExclude } | ForEach-Object { $_.FileSpec })
        $this.ReadSchedule($p, $r)
        return $r
    }

    [bool] Test() {
        $c = $this.Get()
        if (-not $this.SameSchedule($c)) { return $false }
        if ($this.Ensure -eq [Ensure]::Absent) { return $true }
        if ((@($this.FileSpec | Sort-Object) -join "`n") -ne (@($c.FileSpec | Sort-Object) -join "`n")) { return $false }
        if ((@($this.ExcludeSpec | Sort-Object) -join "`n") -ne (@($c.ExcludeSpec | Sort-Object) -join "`n")) { return $false }
        return $true
    }

    [void] Set() {
        $current = Get-OBPolicy
        if ($this.Ensure -eq [Ensure]::Absent) {
            # Removes the policy and keeps the backed-up data (no -DeleteBackup).
            if ($current) { Remove-OBPolicy -Policy $current -Confirm:$false -ErrorAction Stop | Out-Null }
            return
        }
        if (-not $this.FileSpec) { throw [ArgumentException]::new('OBFilePolicy: FileSpec is empty; give the folders or files to back up, or Ensure = Absent to remove the policy.') }
        # A new policy committed replaces the current one (its name and DatasourceId are kept).
        $p = New-OBPolicy
        Add-OBFileSpec -Policy $p -FileSpec (New-OBFileSpec -FileSpec $this.FileSpec) -ErrorAction Stop | Out-Null
        if ($this.ExcludeSpec) { Add-OBFileSpec -Policy $p -FileSpec (New-OBFileSpec -FileSpec $this.ExcludeSpec -Exclude) -ErrorAction Stop | Out-Null }
        Set-OBSchedule -Policy $p -Schedule $this.NewSchedule() -ErrorAction Stop | Out-Null
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy $this.NewRetention() -ErrorAction Stop | Out-Null
        Set-OBPolicy -Policy $p -Confirm:$false -ErrorAction Stop | Out-Null
    }
}

[DscResource()]
class OBSystemStatePolicy : OBPolicyBase {
    [DscProperty(Key)] [string] $Name = 'SystemStatePolicy'

    [OBSystemStatePolicy] Get() {
        $r = [OBSystemStatePolicy]::new()
        $r.Name = $this.Name
        $p = Get-OBSystemStatePolicy
        if (-not $p) { $r.Ensure = [Ensure]::Absent; return $r }
        $r.Ensure = [Ensure]::Present
        $this.ReadSchedule($p, $r)
        return $r
    }

    [bool] Test() { return $this.SameSchedule($this.Get()) }

    [void] Set() {
        $current = Get-OBSystemStatePolicy
        if ($this.Ensure -eq [Ensure]::Absent) {
            if ($current) { Remove-OBSystemStatePolicy -Policy $current -Confirm:$false -ErrorAction Stop | Out-Null }
            return
        }
        $p = New-OBPolicy
        Add-OBSystemState -Policy $p -ErrorAction Stop | Out-Null
        Set-OBSchedule -Policy $p -Schedule $this.NewSchedule() -ErrorAction Stop | Out-Null
        Set-OBRetentionPolicy -Policy $p -RetentionPolicy $this.NewRetention() -ErrorAction Stop | Out-Null
        Set-OBSystemStatePolicy -Policy $p -Confirm:$false -ErrorAction Stop | Out-Null
    }
}

[DscResource()]
class OBRegistration {
    [DscProperty(Key)] [string] $VaultCredentials
    [DscProperty()] [Ensure] $Ensure = [Ensure]::Present
    [DscProperty(NotConfigurable)] [bool] $Registered
    [DscProperty(NotConfigurable)] [string] $ServerName
    [DscProperty(NotConfigurable)] [string] $VaultName
    [DscProperty(NotConfigurable)] [string] $VaultId

    # The engine's own registration (Get-OBMachineSetting): no vault is asked.
    [OBRegistration] Get() {
        $r = [OBRegistration]::new()
        $r.VaultCredentials = $this.VaultCredentials
        $r.Ensure = $this.Ensure
        $s = Get-OBMachineSetting -ErrorAction Stop
        $r.ServerName = $s.ServerName
        $r.VaultName = $s.VaultName
        $r.VaultId = $s.VaultId
        $r.Registered = -not [string]::IsNullOrEmpty($s.VaultId)
        return $r
    }

    # Registered to the vault the credentials file names. The file is only read for its vault id:
    # an expired file still names its vault, and a deleted one leaves "registered" as the test
    # (docs/DSC.md), so a configuration keeps testing true after the file is gone.
    [bool] Test() {
        $c = $this.Get()
        if ($this.Ensure -eq [Ensure]::Absent) { return -not $c.Registered }
        if (-not $c.Registered) { return $false }
        if (-not (Test-Path -LiteralPath $this.VaultCredentials)) {
            Write-Verbose "OBRegistration: '$($this.VaultCredentials)' is gone; registered to vault '$($c.VaultName)' is taken as the desired state."
            return $true
        }
        $want = [OBAgent.OBCredentialsFile]::ReadVault($this.VaultCredentials)
        if ($want.VaultId -ne $c.VaultId) {
            Write-Verbose "OBRegistration: registered to vault '$($c.VaultName)' ($($c.VaultId)), but '$($this.VaultCredentials)' names vault '$($want.VaultName)' ($($want.VaultId))."
            return $false
        }
        return $true
    }

    [void] Set() {
        if ($this.Ensure -eq [Ensure]::Absent) {
            throw [NotSupportedException]::new('OBRegistration: Ensure = Absent is not supported; obagent has no unregister. Remove the resource from the configuration instead.')
        }
        if (-not (Test-Path -LiteralPath $this.VaultCredentials)) {
            throw [IO.FileNotFoundException]::new("OBRegistration: the vault credentials file '$($this.VaultCredentials)' does not exist; download a fresh one with Get-OBVaultCredentials.")
        }
        Start-OBRegistration -VaultCredentials $this.VaultCredentials -Confirm:$false -ErrorAction Stop | Out-Null
    }
}

# Passphrase (the password of a PSCredential; the user name is not used), throttling and proxy.
# The passphrase is never stored: Test asks the engine whether it opens this server's newest key
# record (ob_agent_check_passphrase), so a server whose passphrase is another tests false and Set
# changes it (which needs SecurityPin, as Set-OBMachineSetting does).
[DscResource()]
class OBMachineSetting {
    [DscProperty(Key)] [string] $Name = 'MachineSetting'
    [DscProperty()] [PSCredential] $Passphrase
    [DscProperty()] [string] $SecurityPin
    [DscProperty()] [DayOfWeek[]] $WorkDay
    [DscProperty()] [string] $StartWorkHour
    [DscProperty()] [string] $EndWorkHour
    [DscProperty()] [uint32] $WorkHourBandwidth
    [DscProperty()] [uint32] $NonWorkHourBandwidth
    # Proxy: ProxyServer and ProxyPort (with ProxyUsername and ProxyPassword, a PSCredential whose
    # password is the proxy's; its user name is the proxy user when ProxyUsername is empty), or
    # NoProxy = $true. Neither: the proxy is not managed.
    [DscProperty()] [string] $ProxyServer
    [DscProperty()] [int] $ProxyPort
    [DscProperty()] [string] $ProxyUsername
    [DscProperty()] [PSCredential] $ProxyPassword
    [DscProperty()] [bool] $NoProxy
    [DscProperty(NotConfigurable)] [string] $EncryptionKeyStatus
    [DscProperty(NotConfigurable)] [bool] $PassphraseMatches
    [DscProperty(NotConfigurable)] [bool] $ThrottleEnabled
    [DscProperty(NotConfigurable)] [bool] $ProxyEnabled
    [DscProperty(NotConfigurable)] [bool] $HasProxyPassword

    [OBMachineSetting] Get() {
        $s = Get-OBMachineSetting -ErrorAction Stop
        $r = [OBMachineSetting]::new()
        $r.Name = $this.Name
        $r.EncryptionKeyStatus = [string]$s.EncryptionSetting.EncryptionKeyStatus
        # Whether the configured passphrase is the one set here (never the passphrase itself).
        if ($this.Passphrase -and $r.EncryptionKeyStatus -eq 'Set') { $r.PassphraseMatches = $this.PassphraseIsCurrent() }
        $x = $s.ProxySetting
        $r.ProxyEnabled = $x.Enabled
        $r.NoProxy = -not $x.Enabled
        if ($x.Enabled) {
            $r.ProxyServer = $x.ProxyServer
            $r.ProxyPort = $x.ProxyPort
            $r.ProxyUsername = $x.ProxyUsername
            $r.HasProxyPassword = $x.HasProxyPassword
        }
        $t = $s.ThrottleSetting
        $r.ThrottleEnabled = $t.Enabled
        if ($t.Enabled) {
            $r.WorkDay = @($t.WorkDay)
            $r.StartWorkHour = $t.StartWorkHour.ToString('hh\:mm')
            $r.EndWorkHour = $t.EndWorkHour.ToString('hh\:mm')
            $r.WorkHourBandwidth = $t.WorkHourBandwidth
            $r.NonWorkHourBandwidth = $t.NonWorkHourBandwidth
        }
        return $r
    }

    # The engine opens this server's newest key record with the configured passphrase; nothing changes.
    hidden [bool] PassphraseIsCurrent() {
        try {
            return [OBAgent.OBPassphrase]::Test($this.Passphrase.Password)
        } catch {
            throw (ConvertFrom-OBDscFailure $_ 'OBMachineSetting' $this.Name)
        }
    }

    hidden [TimeSpan] Hour([string] $what, [string] $value) {
        $t = [TimeSpan]::Zero
        if (-not [TimeSpan]::TryParse($value, [Globalization.CultureInfo]::InvariantCulture, [ref]$t) -or $t -lt [TimeSpan]::Zero -or $t.TotalHours -ge 24) {
            throw (New-OBDscError 'OBMachineSetting' 'InvalidWorkHour' InvalidArgument "OBMachineSetting: $what '$value' is not a time of day; give it as HH:mm, e.g. '09:00'." $value)
        }
        return $t
    }

    # The proxy user: ProxyUsername, else the user name of ProxyPassword; $null when none.
    hidden [string] ProxyUser() {
        if ($this.ProxyUsername) { return $this.ProxyUsername }
        if ($this.ProxyPassword -and $this.ProxyPassword.UserName) { return $this.ProxyPassword.UserName }
        return $null
    }

    hidden [bool] ProxyWanted() {
        if ($this.NoProxy -and $this.ProxyServer) {
            throw (New-OBDscError 'OBMachineSetting' 'ProxyConflict' InvalidArgument "OBMachineSetting: NoProxy and ProxyServer '$($this.ProxyServer)' are both given; give ProxyServer and ProxyPort to use a proxy, or NoProxy = `$true to use none." $this.ProxyServer)
        }
        if (-not $this.ProxyServer) {
            if ($this.ProxyPort -or $this.ProxyUsername -or $this.ProxyPassword) {
                throw (New-OBDscError 'OBMachineSetting' 'ProxyServerMissing' InvalidArgument 'OBMachineSetting: ProxyPort, ProxyUsername or ProxyPassword is given without ProxyServer; give the proxy server too, or NoProxy = $true.' $this.Name)
            }
            return $false
        }
        if ($this.ProxyPort -lt 1 -or $this.ProxyPort -gt 65535) {
            throw (New-OBDscError 'OBMachineSetting' 'InvalidProxyPort' InvalidArgument "OBMachineSetting: ProxyPort $($this.ProxyPort) is not a port; give one from 1 to 65535 with ProxyServer '$($this.ProxyServer)'." $this.ProxyPort)
        }
        return $true
    }

    # The proxy password cannot be read back (only whether one is stored): it is compared as
    # present or absent (docs/DSC.md).
    hidden [bool] SameProxy([OBMachineSetting] $c) {
        if ($this.NoProxy -and -not $this.ProxyServer) { return -not $c.ProxyEnabled }
        if (-not $this.ProxyWanted()) { return $true }
        if (-not $c.ProxyEnabled) { return $false }
        if ($this.ProxyServer -ne $c.ProxyServer -or $this.ProxyPort -ne $c.ProxyPort) { return $false }
        if ([string]$this.ProxyUser() -ne [string]$c.ProxyUsername) { return $false }
        $wantPassword = $this.ProxyPassword -and $this.ProxyPassword.Password.Length -gt 0
        if ($wantPassword -ne $c.HasProxyPassword) { return $false }
        return $true
    }

    [bool] Test() {
        $c = $this.Get()
        if (-not $this.SameProxy($c)) { Write-Verbose 'OBMachineSetting: the proxy differs from the configured one.'; return $false }
        if ($this.Passphrase) {
            if ($c.EncryptionKeyStatus -ne 'Set') { Write-Verbose 'OBMachineSetting: no encryption passphrase is set on this server.'; return $false }
            if (-not $c.PassphraseMatches) { Write-Verbose 'OBMachineSetting: the passphrase set on this server is not the configured one.'; return $false }
        }
        if ($this.WorkHourBandwidth) {
            if (-not $c.ThrottleEnabled) { return $false }
            if ((@($this.WorkDay | Sort-Object) -join ',') -ne (@($c.WorkDay | Sort-Object) -join ',')) { return $false }
            if ($this.Hour('StartWorkHour', $this.StartWorkHour).ToString('hh\:mm') -ne $c.StartWorkHour) { return $false }
            if ($this.Hour('EndWorkHour', $this.EndWorkHour).ToString('hh\:mm') -ne $c.EndWorkHour) { return $false }
            if ($this.WorkHourBandwidth -ne $c.WorkHourBandwidth -or $this.NonWorkHourBandwidth -ne $c.NonWorkHourBandwidth) { return $false }
        }
        return $true
    }

    [void] Set() {
        $c = $this.Get()
        # First passphrase, or a change of it (the engine then needs SecurityPin, a fresh one: PINs expire).
        if ($this.Passphrase -and ($c.EncryptionKeyStatus -ne 'Set' -or -not $c.PassphraseMatches)) {
            $p = @{ EncryptionPassphrase = $this.Passphrase.Password }
            if ($this.SecurityPin) { $p.SecurityPin = $this.SecurityPin }
            Set-OBMachineSetting @p -Confirm:$false -ErrorAction Stop -WarningAction SilentlyContinue | Out-Null
        }
        if (-not $this.SameProxy($c)) {
            if ($this.ProxyServer) {
                $p = @{ ProxyServer = $this.ProxyServer; ProxyPort = $this.ProxyPort }
                if ($this.ProxyUser()) { $p.ProxyUsername = $this.ProxyUser() }
                if ($this.ProxyPassword -and $this.ProxyPassword.Password.Length -gt 0) { $p.ProxyPassword = $this.ProxyPassword.Password }
                Set-OBMachineSetting @p -Confirm:$false -ErrorAction Stop | Out-Null
            } else {
                Set-OBMachineSetting -NoProxy -Confirm:$false -ErrorAction Stop | Out-Null
            }
        }
        if ($this.WorkHourBandwidth) {
            Set-OBMachineSetting -WorkDay $this.WorkDay -StartWorkHour $this.Hour('StartWorkHour', $this.StartWorkHour) -EndWorkHour $this.Hour('EndWorkHour', $this.EndWorkHour) `
                -WorkHourBandwidth $this.WorkHourBandwidth -NonWorkHourBandwidth $this.NonWorkHourBandwidth -Confirm:$false -ErrorAction Stop | Out-Null
        }
    }
}
