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

# A type of the module's assembly, found when called: type literals in a class are resolved when the
# file is parsed, and a nested module is parsed before the module's own assembly is loaded.
function OBType {
    param([string] $Name)
    $t = "OBAgent.$Name" -as [type]
    if (-not $t) {
        throw (New-OBDscError 'OBAgentDsc' 'ModuleNotLoaded' ResourceUnavailable "The OBAgent module's assembly is not loaded (type OBAgent.$Name); import the module with Import-Module OBAgent." $Name)
    }
    $t
}

# A call into the module's .NET types failed: the engine's OBAgentException (with its ErrorId and
# category, Interop/ErrorMap.cs) becomes the resource's ErrorRecord; anything else is rethrown.
function ConvertFrom-OBDscFailure {
    param([System.Management.Automation.ErrorRecord] $Failure, [string] $Resource, [object] $Target)
    $ex = $Failure.Exception
    while ($ex -and $ex -isnot (OBType 'OBAgentException')) { $ex = $ex.InnerException }
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
    # Monthly points: days of the month ('1' to '28', 'Last'), or weeks of the month with days of the week.
    [DscProperty()] [string[]] $MonthDaysOfMonth
    [DscProperty()] [ValidateSet('First', 'Second', 'Third', 'Fourth', 'Last')] [string[]] $MonthWeeksOfMonth
    [DscProperty()] [DayOfWeek[]] $MonthDaysOfWeek
    [DscProperty()] [string[]] $MonthTimesOfDay
    [DscProperty()] [int] $RetentionYears
    # Yearly points: months ('January' or 1 ...), and days of the month or weeks with days of the week.
    [DscProperty()] [string[]] $YearMonthsOfYear
    [DscProperty()] [string[]] $YearDaysOfMonth
    [DscProperty()] [ValidateSet('First', 'Second', 'Third', 'Fourth', 'Last')] [string[]] $YearWeeksOfMonth
    [DscProperty()] [DayOfWeek[]] $YearDaysOfWeek
    [DscProperty()] [string[]] $YearTimesOfDay

    hidden [string] ResourceName() { return $this.GetType().Name }

    # Given and not empty: a list holding only Sunday (0) is given, though PowerShell takes it as false.
    hidden [bool] Has([object] $list) { return $null -ne $list -and @($list).Count -gt 0 }

    hidden [object] Bad([string] $errorId, [string] $message, [object] $target) {
        return (New-OBDscError $this.ResourceName() $errorId InvalidArgument "$($this.ResourceName()): $message" $target)
    }

    # Times of day as TimeSpans: 'HH:mm' strings, whole minutes from 00:00 to 23:59.
    hidden [TimeSpan[]] Times([string[]] $t) {
        $out = [Collections.Generic.List[TimeSpan]]::new()
        foreach ($v in @($t)) {
            if ($null -eq $v) { continue }
            $x = [TimeSpan]::Zero
            if (-not [TimeSpan]::TryParseExact([string]$v, [string[]]@('h\:mm', 'hh\:mm'), [Globalization.CultureInfo]::InvariantCulture, [ref]$x) -or $x.TotalHours -ge 24) {
                throw $this.Bad('InvalidTimeOfDay', "'$v' is not a time of day; give times as HH:mm from 00:00 to 23:59, e.g. '21:00'.", $v)
            }
            $out.Add($x)
        }
        return $out.ToArray()
    }

    # Each list as one comparable text: sorted, in the engine's spelling.
    hidden [string] TimesKey([string[]] $t) { return (@($this.Times($t) | ForEach-Object { $_.ToString('hh\:mm') } | Sort-Object) -join ',') }
    hidden [string] DaysKey([object[]] $d) { return (@($d | Where-Object { $null -ne $_ } | ForEach-Object { [int][DayOfWeek]$_ } | Sort-Object) -join ',') }
    hidden [string] MonthDaysKey([string[]] $d) {
        $keys = foreach ($v in @($d)) {
            if ($null -eq $v) { continue }
            $n = 0
            if ("$v".Trim() -eq 'Last') { 99 }
            elseif ([int]::TryParse("$v".Trim(), [ref]$n) -and $n -ge 1 -and $n -le 28) { $n }
            else { throw $this.Bad('InvalidDayOfMonth', "'$v' is not a day of the month; give '1' to '28' or 'Last'.", $v) }
        }
        return (@($keys | Sort-Object) -join ',')
    }
    hidden [string] WeeksKey([string[]] $w) {
        $order = @('First', 'Second', 'Third', 'Fourth', 'Last')
        return (@($w | Where-Object { $_ } | ForEach-Object { [array]::IndexOf($order, (Get-Culture).TextInfo.ToTitleCase("$_".Trim().ToLowerInvariant())) } | Sort-Object) -join ',')
    }
    hidden [string] MonthsKey([string[]] $m) {
        $keys = foreach ($v in @($m)) {
            if (-not $v) { continue }
            $n = 0
            $t = "$v".Trim()
            if (-not ([int]::TryParse($t, [ref]$n) -and $n -ge 1 -and $n -le 12)) {
                $n = [array]::IndexOf([Globalization.CultureInfo]::InvariantCulture.DateTimeFormat.MonthNames, (Get-Culture).TextInfo.ToTitleCase($t.ToLowerInvariant())) + 1
            }
            if ($n -lt 1) { throw $this.Bad('InvalidMonthOfYear', "'$v' is not a month; give 'January' to 'December' or 1 to 12.", $v) }
            $n
        }
        return (@($keys | Sort-Object) -join ',')
    }

    hidden [object] NewSchedule() {
        # The engine checks the rest (days, count of times, frequency) and says what is wrong.
        return New-OBSchedule -DaysOfWeek $this.DaysOfWeek -TimesOfDay $this.Times($this.TimesOfDay) -WeeklyFrequency $this.WeeklyFrequency -ErrorAction Stop
    }

    hidden [object] NewRetention() {
        # The same checks as Test, so Set and Test fail alike on a bad value.
        $this.MonthDaysKey($this.MonthDaysOfMonth) | Out-Null
        $this.MonthDaysKey($this.YearDaysOfMonth) | Out-Null
        $p = @{ RetentionDays = $this.RetentionDays }
        if ($this.RetentionWeeks) { $p.RetentionWeeklyPolicy = $true; $p.RetentionWeeks = $this.RetentionWeeks; $p.WeekDaysOfWeek = $this.WeekDaysOfWeek; $p.WeekTimesOfDay = $this.Times($this.WeekTimesOfDay) }
        if ($this.RetentionMonths) {
            $p.RetentionMonthlyPolicy = $true; $p.RetentionMonths = $this.RetentionMonths; $p.MonthTimesOfDay = $this.Times($this.MonthTimesOfDay)
            if ($this.Has($this.MonthDaysOfMonth)) { $p.MonthDaysOfMonth = $this.MonthDaysOfMonth }
            if ($this.Has($this.MonthDaysOfWeek)) { $p.MonthDaysOfWeek = $this.MonthDaysOfWeek }
            if ($this.Has($this.MonthWeeksOfMonth)) { $p.MonthWeeksOfMonth = $this.MonthWeeksOfMonth }
        }
        if ($this.RetentionYears) {
            $p.RetentionYearlyPolicy = $true; $p.RetentionYears = $this.RetentionYears; $p.YearTimesOfDay = $this.Times($this.YearTimesOfDay)
            if ($this.Has($this.YearMonthsOfYear)) { $p.YearMonthsOfYear = @($this.MonthsKey($this.YearMonthsOfYear) -split ',' | ForEach-Object { [Globalization.CultureInfo]::InvariantCulture.DateTimeFormat.MonthNames[[int]$_ - 1] }) }
            if ($this.Has($this.YearDaysOfMonth)) { $p.YearDaysOfMonth = $this.YearDaysOfMonth }
            if ($this.Has($this.YearDaysOfWeek)) { $p.YearDaysOfWeek = $this.YearDaysOfWeek }
            if ($this.Has($this.YearWeeksOfMonth)) { $p.YearWeeksOfMonth = $this.YearWeeksOfMonth }
        }
        return New-OBRetentionPolicy @p -ErrorAction Stop
    }

    # Fills the schedule and retention properties of $into from a committed policy.
    hidden [void] ReadSchedule([object] $policy, [object] $into) {
        $hhmm = { param($t) @($t | ForEach-Object { $_.ToString('hh\:mm') }) }
        $s = $policy.BackupSchedule
        $into.DaysOfWeek = @($s.ScheduleRunDays)
        $into.TimesOfDay = @($s.ScheduleRunTimes | ForEach-Object { $_.ToString('HH:mm', [Globalization.CultureInfo]::InvariantCulture) })
        $into.WeeklyFrequency = $s.ScheduleWeeklyFrequency
        $rp = $policy.RetentionPolicy
        $into.RetentionDays = [int]$rp.RetentionDays
        if ($w = $rp.WeeklyLTRSchedule) {
            $into.RetentionWeeks = [int]$w.RetentionCount
            $into.WeekDaysOfWeek = @($w.DaysOfWeek)
            $into.WeekTimesOfDay = & $hhmm $w.TimesOfDay
        }
        if ($m = $rp.MonthlyLTRSchedule) {
            $into.RetentionMonths = [int]$m.RetentionCount
            $into.MonthDaysOfMonth = @($m.DaysOfMonth)
            $into.MonthWeeksOfMonth = @($m.WeeksOfMonth | ForEach-Object { [string]$_ })
            $into.MonthDaysOfWeek = @($m.DaysOfWeek)
            $into.MonthTimesOfDay = & $hhmm $m.TimesOfDay
        }
        if ($y = $rp.YearlyLTRSchedule) {
            $into.RetentionYears = [int]$y.RetentionCount
            $into.YearMonthsOfYear = @($y.MonthsOfYear | ForEach-Object { [string]$_ })
            $into.YearDaysOfMonth = @($y.DaysOfMonth)
            $into.YearWeeksOfMonth = @($y.WeeksOfMonth | ForEach-Object { [string]$_ })
            $into.YearDaysOfWeek = @($y.DaysOfWeek)
            $into.YearTimesOfDay = & $hhmm $y.TimesOfDay
        }
    }

    # One field of the desired state against the current one, said in a verbose message when it differs.
    hidden [bool] Same([string] $field, [string] $want, [string] $have) {
        if ($want -ceq $have) { return $true }
        Write-Verbose "$($this.ResourceName()): $field is '$have', configured '$want'."
        return $false
    }

    hidden [bool] SameSchedule([object] $current) {
        if ($current.Ensure -ne $this.Ensure) { return $false }
        if ($this.Ensure -eq [Ensure]::Absent) { return $true }
        $c = $current
        $ok = $this.Same('DaysOfWeek', $this.DaysKey($this.DaysOfWeek), $this.DaysKey($c.DaysOfWeek)) -and
            $this.Same('TimesOfDay', $this.TimesKey($this.TimesOfDay), $this.TimesKey($c.TimesOfDay)) -and
            $this.Same('WeeklyFrequency', [string]$this.WeeklyFrequency, [string]$c.WeeklyFrequency) -and
            $this.Same('RetentionDays', [string]$this.RetentionDays, [string]$c.RetentionDays) -and
            $this.Same('RetentionWeeks', [string]$this.RetentionWeeks, [string]$c.RetentionWeeks) -and
            $this.Same('RetentionMonths', [string]$this.RetentionMonths, [string]$c.RetentionMonths) -and
            $this.Same('RetentionYears', [string]$this.RetentionYears, [string]$c.RetentionYears)
        if (-not $ok) { return $false }
        if ($this.RetentionWeeks) {
            $ok = $this.Same('WeekDaysOfWeek', $this.DaysKey($this.WeekDaysOfWeek), $this.DaysKey($c.WeekDaysOfWeek)) -and
                $this.Same('WeekTimesOfDay', $this.TimesKey($this.WeekTimesOfDay), $this.TimesKey($c.WeekTimesOfDay))
            if (-not $ok) { return $false }
        }
        if ($this.RetentionMonths) {
            # The week form without weeks means the first week, as New-OBRetentionPolicy (docs/RETENTION.md).
            $weeks = if ($this.Has($this.MonthDaysOfWeek) -and -not $this.Has($this.MonthWeeksOfMonth)) { @('First') } else { $this.MonthWeeksOfMonth }
            $ok = $this.Same('MonthDaysOfMonth', $this.MonthDaysKey($this.MonthDaysOfMonth), $this.MonthDaysKey($c.MonthDaysOfMonth)) -and
                $this.Same('MonthWeeksOfMonth', $this.WeeksKey($weeks), $this.WeeksKey($c.MonthWeeksOfMonth)) -and
                $this.Same('MonthDaysOfWeek', $this.DaysKey($this.MonthDaysOfWeek), $this.DaysKey($c.MonthDaysOfWeek)) -and
                $this.Same('MonthTimesOfDay', $this.TimesKey($this.MonthTimesOfDay), $this.TimesKey($c.MonthTimesOfDay))
            if (-not $ok) { return $false }
        }
        if ($this.RetentionYears) {
            # No months means January; the week form without weeks, the first week (docs/RETENTION.md).
            $months = if ($this.Has($this.YearMonthsOfYear)) { $this.YearMonthsOfYear } else { @('January') }
            $weeks = if ($this.Has($this.YearDaysOfWeek) -and -not $this.Has($this.YearWeeksOfMonth)) { @('First') } else { $this.YearWeeksOfMonth }
            $ok = $this.Same('YearMonthsOfYear', $this.MonthsKey($months), $this.MonthsKey($c.YearMonthsOfYear)) -and
                $this.Same('YearDaysOfMonth', $this.MonthDaysKey($this.YearDaysOfMonth), $this.MonthDaysKey($c.YearDaysOfMonth)) -and
                $this.Same('YearWeeksOfMonth', $this.WeeksKey($weeks), $this.WeeksKey($c.YearWeeksOfMonth)) -and
                $this.Same('YearDaysOfWeek', $this.DaysKey($this.YearDaysOfWeek), $this.DaysKey($c.YearDaysOfWeek)) -and
                $this.Same('YearTimesOfDay', $this.TimesKey($this.YearTimesOfDay), $this.TimesKey($c.YearTimesOfDay))
            if (-not $ok) { return $false }
        }
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
        $p = Get-OBPolicy -ErrorAction Stop
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
        $current = Get-OBPolicy -ErrorAction Stop
        if ($this.Ensure -eq [Ensure]::Absent) {
            # Removes the policy and keeps the backed-up data (no -DeleteBackup).
            if ($current) { Remove-OBPolicy -Policy $current -Confirm:$false -ErrorAction Stop | Out-Null }
            return
        }
        if (-not $this.FileSpec) { throw (New-OBDscError 'OBFilePolicy' 'FileSpecMissing' InvalidArgument 'OBFilePolicy: FileSpec is empty; give the folders or files to back up, or Ensure = Absent to remove the policy.' $this.Name) }
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
        $p = Get-OBSystemStatePolicy -ErrorAction Stop
        if (-not $p) { $r.Ensure = [Ensure]::Absent; return $r }
        $r.Ensure = [Ensure]::Present
        $this.ReadSchedule($p, $r)
        return $r
    }

    [bool] Test() { return $this.SameSchedule($this.Get()) }

    [void] Set() {
        $current = Get-OBSystemStatePolicy -ErrorAction Stop
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
        try {
            $want = (OBType 'OBCredentialsFile')::ReadVault($this.VaultCredentials)
        } catch {
            throw (ConvertFrom-OBDscFailure $_ 'OBRegistration' $this.VaultCredentials)
        }
        if ($want.VaultId -ne $c.VaultId) {
            Write-Verbose "OBRegistration: registered to vault '$($c.VaultName)' ($($c.VaultId)), but '$($this.VaultCredentials)' names vault '$($want.VaultName)' ($($want.VaultId))."
            return $false
        }
        return $true
    }

    [void] Set() {
        if ($this.Ensure -eq [Ensure]::Absent) {
            throw (New-OBDscError 'OBRegistration' 'UnregisterNotSupported' NotImplemented 'OBRegistration: Ensure = Absent is not supported; obagent has no unregister. Remove the resource from the configuration instead.' $this.VaultCredentials)
        }
        if (-not (Test-Path -LiteralPath $this.VaultCredentials)) {
            throw (New-OBDscError 'OBRegistration' 'VaultCredentialsNotFound' ObjectNotFound "OBRegistration: the vault credentials file '$($this.VaultCredentials)' does not exist; download a fresh one with Get-OBVaultCredentials." $this.VaultCredentials)
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
            return (OBType 'OBPassphrase')::Test($this.Passphrase.Password)
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

    # Throttling is managed when WorkHourBandwidth is given; then every throttle property is needed.
    hidden [bool] ThrottleWanted() {
        $given = @('WorkDay', 'StartWorkHour', 'EndWorkHour', 'WorkHourBandwidth', 'NonWorkHourBandwidth' | Where-Object { $v = $this.$_; $null -ne $v -and @($v).Count -gt 0 -and "$v" -ne '' -and "$v" -ne '0' })
        if ($given.Count -eq 0) { return $false }
        if ($given.Count -lt 5 -or $given -notcontains 'WorkHourBandwidth') {
            $missing = @('WorkDay', 'StartWorkHour', 'EndWorkHour', 'WorkHourBandwidth', 'NonWorkHourBandwidth' | Where-Object { $given -notcontains $_ })
            throw (New-OBDscError 'OBMachineSetting' 'ThrottleIncomplete' InvalidArgument "OBMachineSetting: throttling needs WorkDay, StartWorkHour, EndWorkHour, WorkHourBandwidth and NonWorkHourBandwidth; $($missing -join ', ') missing." $this.Name)
        }
        return $true
    }

    [bool] Test() {
        $c = $this.Get()
        if (-not $this.SameProxy($c)) { Write-Verbose 'OBMachineSetting: the proxy differs from the configured one.'; return $false }
        if ($this.Passphrase) {
            if ($c.EncryptionKeyStatus -ne 'Set') { Write-Verbose 'OBMachineSetting: no encryption passphrase is set on this server.'; return $false }
            if (-not $c.PassphraseMatches) { Write-Verbose 'OBMachineSetting: the passphrase set on this server is not the configured one.'; return $false }
        }
        if ($this.ThrottleWanted()) {
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
        if ($this.ThrottleWanted()) {
            Set-OBMachineSetting -WorkDay $this.WorkDay -StartWorkHour $this.Hour('StartWorkHour', $this.StartWorkHour) -EndWorkHour $this.Hour('EndWorkHour', $this.EndWorkHour) `
                -WorkHourBandwidth $this.WorkHourBandwidth -NonWorkHourBandwidth $this.NonWorkHourBandwidth -Confirm:$false -ErrorAction Stop | Out-Null
        }
    }
}
