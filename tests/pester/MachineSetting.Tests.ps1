# Set-OBMachineSetting / Get-OBMachineSetting: passphrase (first, change with a PIN, refusals),
# proxy and throttle round trips, -WhatIf, and secrets never written to disk.

BeforeAll {
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-OBAgentUnderTest
    $script:Pass1 = 'First-Passphrase-0123456789'
    $script:Pass2 = 'Second-Passphrase-9876543210'

    function Set-TestPassphrase {
        param([string] $Text, $Pin)
        if ($PSBoundParameters.ContainsKey('Pin')) {
            Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $Text) -SecurityPin $Pin -WarningAction SilentlyContinue
        } else {
            Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $Text) -WarningAction SilentlyContinue
        }
    }

    # Registers the same server (same name) again from a fresh state folder, as after losing it,
    # and returns the ErrorRecord of setting Text there (null when accepted).
    function Test-PassphraseFromNewHome {
        param($Context, [string] $Text)
        $env:OBAGENT_HOME = Join-Path $Context.Root ('home-' + [guid]::NewGuid().ToString('N').Substring(0, 6))
        $file = Get-ChildItem -LiteralPath $Context.Creds -Filter '*.VaultCredentials' | Sort-Object LastWriteTime | Select-Object -Last 1
        Start-OBRegistration -VaultCredentials $file.FullName -Confirm:$false | Out-Null
        Get-ErrorRecord { Set-TestPassphrase $Text }
    }
}

Describe 'Get-OBMachineSetting' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'returns OBMachineSetting with the MSOnlineBackup property names' {
        $s = Get-OBMachineSetting
        $s | Should -BeOfType 'OBAgent.OBMachineSetting'
        # MSOnlineBackup's names, plus obagent's VaultName and VaultId (the registered vault, docs/DSC.md).
        $s.PSObject.Properties.Name | Sort-Object | Should -Be @('EncryptionSetting', 'ProxySetting', 'ServerName', 'ThrottleSetting', 'VaultId', 'VaultName')
        $s.VaultName | Should -Be $ctx.VaultName
        $s.VaultId | Should -Match '^[0-9a-f-]{16,}$'
        $s.ProxySetting.PSObject.Properties.Name | Should -Contain 'Enabled'
        $s.ProxySetting.PSObject.Properties.Name | Should -Contain 'ProxyServer'
        $s.ProxySetting.PSObject.Properties.Name | Should -Contain 'ProxyPort'
        $s.ProxySetting.PSObject.Properties.Name | Should -Contain 'ProxyUsername'
        $s.EncryptionSetting.PSObject.Properties.Name | Should -Be @('EncryptionKeyStatus')
        foreach ($p in 'Enabled', 'WorkDay', 'StartWorkHour', 'EndWorkHour', 'WorkHourBandwidth', 'NonWorkHourBandwidth') {
            $s.ThrottleSetting.PSObject.Properties.Name | Should -Contain $p
        }
        $s.ServerName | Should -Be $ctx.ServerName
        $s.EncryptionSetting.EncryptionKeyStatus | Should -Be 'NotSet'
        $s.ProxySetting.Enabled | Should -BeFalse
        $s.ThrottleSetting.Enabled | Should -BeFalse
        ($s | Out-String) | Should -Match 'ServerName'
    }
}

Describe 'Set-OBMachineSetting -EncryptionPassphrase' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'sets the first passphrase, warns once, accepts it from the pipeline' {
        $warnings = $null
        $out = ConvertTo-TestSecret $script:Pass1 | Set-OBMachineSetting -WarningVariable warnings -WarningAction SilentlyContinue
        $out | Should -Be 'Server properties updated successfully.'
        @($warnings).Count | Should -Be 1
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'Set'
    }

    It 'treats a blank -SecurityPin (" ") as no PIN on the first passphrase' {
        Set-TestPassphrase $script:Pass1 -Pin ' ' | Should -Be 'Server properties updated successfully.'
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'Set'
    }

    It 'refuses a passphrase shorter than 16 characters (InvalidInput)' {
        $err = Get-ErrorRecord { Set-TestPassphrase 'Short-15-chars!' }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBMachineSettingCommand'
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'NotSet'
    }

    It 'accepts exactly 16 ASCII characters' {
        Set-TestPassphrase '0123456789abcdef' | Should -Be 'Server properties updated successfully.'
    }

    It 'refuses a non-ASCII passphrase (InvalidInput)' {
        $err = Get-ErrorRecord { Set-TestPassphrase 'Pässphrase-with-umlaut-123' }
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBMachineSettingCommand'
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'NotSet'
    }

    It 'changes nothing with -WhatIf' {
        $out = Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $script:Pass1) -WhatIf
        $out | Should -BeNullOrEmpty
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'NotSet'
    }

    It 'fails with ServerNotRegistered before registration' {
        $env:OBAGENT_HOME = Join-Path $ctx.Root 'unregistered'
        $err = Get-ErrorRecord { Set-TestPassphrase $script:Pass1 }
        $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        $err.FullyQualifiedErrorId | Should -Be 'ServerNotRegistered,OBAgent.Commands.SetOBMachineSettingCommand'
    }

    It 'changes the passphrase with a valid PIN; the old one no longer opens the key' {
        Set-TestPassphrase $script:Pass1 | Out-Null
        $pin = New-OBSecurityPin -Path $ctx.Vault
        $warnings = $null
        $out = Set-OBMachineSetting -EncryptionPassphrase (ConvertTo-TestSecret $script:Pass2) -SecurityPin $pin -WarningVariable warnings -WarningAction SilentlyContinue
        $out | Should -Be 'Server properties updated successfully.'
        @($warnings).Count | Should -Be 0 -Because 'the first-passphrase warning is for the first one only'

        $err = Test-PassphraseFromNewHome $ctx $script:Pass1
        $err | Should -Not -BeNullOrEmpty
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.FullyQualifiedErrorId | Should -Be 'PassphraseIncorrect,OBAgent.Commands.SetOBMachineSettingCommand'
        $err.Exception.NativeName | Should -Be 'OB_EPASSPHRASE'
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'NotSet'
        Set-TestPassphrase $script:Pass2 | Should -Be 'Server properties updated successfully.'
        (Get-OBMachineSetting).EncryptionSetting.EncryptionKeyStatus | Should -Be 'Set'
    }

    It 'refuses a change without a PIN (AuthenticationFailed) and keeps the old passphrase' {
        Set-TestPassphrase $script:Pass1 | Out-Null
        $err = Get-ErrorRecord { Set-TestPassphrase $script:Pass2 }
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.SetOBMachineSettingCommand'
        $err = Get-ErrorRecord { Set-TestPassphrase $script:Pass2 -Pin ' ' }
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.SetOBMachineSettingCommand'

        (Test-PassphraseFromNewHome $ctx $script:Pass2).FullyQualifiedErrorId | Should -BeLike 'PassphraseIncorrect,*'
        Set-TestPassphrase $script:Pass1 | Should -Be 'Server properties updated successfully.'
    }

    It 'refuses a change with a wrong PIN (AuthenticationFailed) and keeps the old passphrase' {
        Set-TestPassphrase $script:Pass1 | Out-Null
        $pin = (New-OBSecurityPin -Path $ctx.Vault).SecurityPin
        $wrong = -join ($pin.ToCharArray() | ForEach-Object { [string](([int][string]$_ + 1) % 10) })
        $err = Get-ErrorRecord { Set-TestPassphrase $script:Pass2 -Pin $wrong }
        $err.CategoryInfo.Category | Should -Be 'AuthenticationError'
        $err.FullyQualifiedErrorId | Should -Be 'AuthenticationFailed,OBAgent.Commands.SetOBMachineSettingCommand'

        # The right PIN still works after a wrong one: the old passphrase was in force.
        $pin2 = New-OBSecurityPin -Path $ctx.Vault
        Set-TestPassphrase $script:Pass2 -Pin $pin2 | Should -Be 'Server properties updated successfully.'
        (Test-PassphraseFromNewHome $ctx $script:Pass1).FullyQualifiedErrorId | Should -BeLike 'PassphraseIncorrect,*'
    }

    It 'refuses a change with an expired PIN (OBAGENT_NOW + 6 min: Expired) and keeps the old passphrase' {
        Set-TestPassphrase $script:Pass1 | Out-Null
        $pin = New-OBSecurityPin -Path $ctx.Vault
        $env:OBAGENT_NOW = Get-TestTime ([TimeSpan]::FromMinutes(6))
        $err = Get-ErrorRecord { Set-TestPassphrase $script:Pass2 -Pin $pin }
        $err.CategoryInfo.Category | Should -Be 'SecurityError'
        $err.FullyQualifiedErrorId | Should -Be 'Expired,OBAgent.Commands.SetOBMachineSettingCommand'
        $err.Exception.NativeName | Should -Be 'OB_EEXPIRED'
        Remove-Item Env:OBAGENT_NOW

        (Test-PassphraseFromNewHome $ctx $script:Pass2).FullyQualifiedErrorId | Should -BeLike 'PassphraseIncorrect,*'
        Set-TestPassphrase $script:Pass1 | Should -Be 'Server properties updated successfully.'
    }

    It 'refuses a PIN from another vault' {
        Set-TestPassphrase $script:Pass1 | Out-Null
        $other = Join-Path $ctx.Root 'vault2'
        New-OBVault -Name 'OtherVault' -Path $other | Out-Null
        $pin = New-OBSecurityPin -Path $other
        $err = Get-ErrorRecord { Set-TestPassphrase $script:Pass2 -Pin $pin }
        $err.FullyQualifiedErrorId | Should -BeLike 'AuthenticationFailed,*'
    }
}

Describe 'Set-OBMachineSetting proxy and throttle' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'round-trips a proxy, then -NoProxy' {
        $out = Set-OBMachineSetting -ProxyServer 'proxy.contoso.test' -ProxyPort 3128 -ProxyUsername 'backup' -ProxyPassword (ConvertTo-TestSecret 'Proxy-Secret-Xyz-7788')
        $out | Should -Be 'Server properties updated successfully.'
        $p = (Get-OBMachineSetting).ProxySetting
        $p.Enabled | Should -BeTrue
        $p.ProxyServer | Should -BeLike '*proxy.contoso.test'
        $p.ProxyPort | Should -Be 3128
        $p.ProxyUsername | Should -Be 'backup'

        Set-OBMachineSetting -NoProxy | Should -Be 'Server properties updated successfully.'
        (Get-OBMachineSetting).ProxySetting.Enabled | Should -BeFalse
    }

    It 'sets a proxy without user name or password' {
        Set-OBMachineSetting -ProxyServer 'http://10.0.0.1' -ProxyPort 8080 | Should -Be 'Server properties updated successfully.'
        $p = (Get-OBMachineSetting).ProxySetting
        $p.Enabled | Should -BeTrue
        $p.ProxyPort | Should -Be 8080
        $p.ProxyUsername | Should -BeNullOrEmpty
    }

    It 'refuses a proxy port out of range' {
        $err = Get-ErrorRecord { Set-OBMachineSetting -ProxyServer 'proxy' -ProxyPort 70000 }
        $err.FullyQualifiedErrorId | Should -BeLike 'ParameterArgumentValidationError,*'
    }

    It 'round-trips throttling, then -NoThrottle' {
        $days = [DayOfWeek]::Monday, [DayOfWeek]::Wednesday, [DayOfWeek]::Friday
        $out = Set-OBMachineSetting -WorkDay $days -StartWorkHour '09:00' -EndWorkHour '18:30' -WorkHourBandwidth (512 * 1024) -NonWorkHourBandwidth (2048 * 1024)
        $out | Should -Be 'Server properties updated successfully.'
        $t = (Get-OBMachineSetting).ThrottleSetting
        $t.Enabled | Should -BeTrue
        $t.WorkDay | Should -Be $days
        $t.WorkDay[0] | Should -BeOfType [DayOfWeek]
        $t.StartWorkHour | Should -Be ([TimeSpan]'09:00')
        $t.EndWorkHour | Should -Be ([TimeSpan]'18:30')
        $t.WorkHourBandwidth | Should -Be (512 * 1024)
        $t.NonWorkHourBandwidth | Should -Be (2048 * 1024)

        Set-OBMachineSetting -NoThrottle | Should -Be 'Server properties updated successfully.'
        (Get-OBMachineSetting).ThrottleSetting.Enabled | Should -BeFalse
    }

    It 'refuses work hours that end before they start, and bandwidth below the minimum (InvalidInput)' {
        $err = Get-ErrorRecord { Set-OBMachineSetting -WorkDay Monday -StartWorkHour '18:00' -EndWorkHour '09:00' -WorkHourBandwidth 1048576 -NonWorkHourBandwidth 1048576 }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBMachineSettingCommand'
        $err = Get-ErrorRecord { Set-OBMachineSetting -WorkDay Monday -StartWorkHour '09:00' -EndWorkHour '18:00' -WorkHourBandwidth 1000 -NonWorkHourBandwidth 1048576 }
        $err.FullyQualifiedErrorId | Should -Be 'InvalidInput,OBAgent.Commands.SetOBMachineSettingCommand'
        (Get-OBMachineSetting).ThrottleSetting.Enabled | Should -BeFalse
    }

    It 'changes nothing with -WhatIf' {
        Set-OBMachineSetting -ProxyServer 'proxy.contoso.test' -ProxyPort 3128 | Out-Null
        Set-OBMachineSetting -NoProxy -WhatIf | Should -BeNullOrEmpty
        (Get-OBMachineSetting).ProxySetting.Enabled | Should -BeTrue
        Set-OBMachineSetting -WorkDay Monday -StartWorkHour '09:00' -EndWorkHour '17:00' -WorkHourBandwidth 1048576 -NonWorkHourBandwidth 1048576 -WhatIf | Should -BeNullOrEmpty
        (Get-OBMachineSetting).ThrottleSetting.Enabled | Should -BeFalse
        Set-OBMachineSetting -ProxyServer 'other.test' -ProxyPort 1 -WhatIf | Should -BeNullOrEmpty
        (Get-OBMachineSetting).ProxySetting.ProxyPort | Should -Be 3128
    }
}

Describe 'Secrets on disk' {
    BeforeEach {
        $ctx = New-TestContext
        Register-TestServer $ctx | Out-Null
    }
    AfterEach { Remove-TestContext $ctx }

    It 'writes no passphrase (first or changed) to the state folder or the vault' {
        $passphrase = 'Unique-Passphrase-' + [guid]::NewGuid().ToString('N')
        Set-TestPassphrase $passphrase | Out-Null
        $pin = New-OBSecurityPin -Path $ctx.Vault
        $passphrase2 = 'Unique-Passphrase2-' + [guid]::NewGuid().ToString('N')
        Set-TestPassphrase $passphrase2 -Pin $pin | Out-Null

        (Get-ChildItem -LiteralPath $ctx.Home -Recurse -File).Count | Should -BeGreaterThan 0
        foreach ($folder in $ctx.Home, $ctx.Vault) {
            Test-SecretInFiles -Path $folder -Text $passphrase | Should -BeNullOrEmpty
            Test-SecretInFiles -Path $folder -Text $passphrase2 | Should -BeNullOrEmpty
        }
    }

    It 'writes no proxy password in clear to the state folder or the vault' {
        $proxyPassword = 'Unique-ProxyPwd-' + [guid]::NewGuid().ToString('N')
        Set-OBMachineSetting -ProxyServer 'proxy.contoso.test' -ProxyPort 3128 -ProxyUsername 'backup' -ProxyPassword (ConvertTo-TestSecret $proxyPassword) | Out-Null
        (Get-OBMachineSetting).ProxySetting.HasProxyPassword | Should -BeTrue
        foreach ($folder in $ctx.Home, $ctx.Vault) {
            Test-SecretInFiles -Path $folder -Text $proxyPassword | Should -BeNullOrEmpty
        }
    }
}
